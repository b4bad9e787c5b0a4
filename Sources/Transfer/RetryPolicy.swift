/// When and how often the engine repeats a failed request.
///
/// Delays grow exponentially with full jitter (a random delay between zero and the capped
/// exponential bound); a `Retry-After` header (seconds or HTTP date) sets a floor on the delay.
public struct RetryPolicy: Sendable, Equatable {
    /// Total attempts, the first included; 1 means no retry.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Statuses that are retried.
    public var retryableStatuses: Set<Int>
    /// Whether transport failures (connect, reset, timeout, stall) are retried.
    public var retryTransportErrors: Bool
    /// Marks ``automatic``, which ``HTTPRequest/init`` resolves from the method.
    var isAutomatic = false

    public init(maxAttempts: Int, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(30),
                retryableStatuses: Set<Int> = RetryPolicy.transientStatuses, retryTransportErrors: Bool = true) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.retryableStatuses = retryableStatuses
        self.retryTransportErrors = retryTransportErrors
    }

    /// `429`, `502`, `503`, `504`: the statuses docs/api-contract.md calls transient.
    public static let transientStatuses: Set<Int> = [429, 502, 503, 504]

    /// No retry: for requests that must not be repeated blindly (a create).
    public static let none = RetryPolicy(maxAttempts: 1)

    /// ``default`` for idempotent methods, ``none`` for the others: what ``HTTPRequest/init`` picks
    /// when no policy is given. (Kept non-optional so that `retry: .none` means no retry, not "unset".)
    public static let automatic: RetryPolicy = {
        var policy = RetryPolicy.none
        policy.isAutomatic = true
        return policy
    }()

    /// Six attempts with delays from 250 ms up to 30 s, on transient statuses and `500`
    /// (which may come after the server saved the change): for idempotent requests.
    public static let `default` = RetryPolicy(maxAttempts: 6, retryableStatuses: transientStatuses.union([500]))
}
