/// Tells a slow request body from a live one: at least `minBytes` must arrive in every `window`.
///
/// The server's idle timeout closes a connection that sends nothing; this catches one that sends a
/// byte now and then to stay open (a slowloris), which the idle timeout never sees.
struct BodyPace: Sendable {
    let minBytes: Int
    let window: Duration
    private var windowStart = ContinuousClock.now
    private var bytesInWindow = 0

    init(minBytes: Int, window: Duration) {
        self.minBytes = minBytes
        self.window = window
    }

    init(_ limits: AssetServerConfiguration.Limits) {
        self.init(minBytes: limits.minBodyBytes, window: limits.bodyWindow)
    }

    /// Counts `count` more bytes; false when the window that just ended brought fewer than `minBytes`.
    mutating func received(_ count: Int) -> Bool {
        bytesInWindow = bytesInWindow > Int.max - count ? Int.max : bytesInWindow + count
        let now = ContinuousClock.now
        guard now - windowStart >= window else { return true }
        guard bytesInWindow >= minBytes else { return false }
        windowStart = now
        bytesInWindow = 0
        return true
    }
}
