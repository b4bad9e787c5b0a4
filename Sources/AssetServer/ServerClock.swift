import Foundation

/// The server's "now": wall time plus an offset that `POST /_admin/clock` shifts, so that tests can expire
/// presigned links and archive old dates without waiting.
final class ServerClock: @unchecked Sendable {
    // NSLock guards `offset`, the only mutable state.
    private let lock = NSLock()
    private var offset: Micros = 0

    var now: Micros {
        let offset = lock.withLock { self.offset }
        return Timestamp.micros(Date()) + offset
    }

    func advance(seconds: Double) {
        let delta = Micros((seconds * 1_000_000).rounded())
        lock.withLock { offset += delta }
    }
}
