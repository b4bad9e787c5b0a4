import Foundation
import WireFormat

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

    /// How far the clock may be moved from wall time, either way: a century keeps every
    /// `now + lifetime` sum far inside `Int64` microseconds.
    static let maxOffsetSeconds: Double = 100 * 366 * 86_400

    /// Moves the clock by `seconds`; refuses (returning false, changing nothing) a step that is not a
    /// finite number or that would put the clock more than ``maxOffsetSeconds`` from wall time.
    func advance(seconds: Double) -> Bool {
        guard seconds.isFinite, abs(seconds) <= Self.maxOffsetSeconds else { return false }
        let delta = Micros((seconds * 1_000_000).rounded())
        return lock.withLock {
            let next = offset + delta
            guard abs(Double(next)) <= Self.maxOffsetSeconds * 1_000_000 else { return false }
            offset = next
            return true
        }
    }
}
