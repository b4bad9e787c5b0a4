import Foundation
import WireFormat

/// The server's "now": wall time plus an offset that `POST /_admin/clock` shifts, so that tests can expire
/// presigned links and archive old dates without waiting. With PostgreSQL the offset lives in the database
/// (`meta.clock_offset`), so that every replica agrees; ``ServerState`` refreshes it before each request.
final class ServerClock: @unchecked Sendable {
    // NSLock guards `offset`, the only mutable state.
    private let lock = NSLock()
    private var offset: Micros = 0

    var now: Micros {
        let offset = lock.withLock { self.offset }
        return Timestamp.micros(Date()) + offset
    }

    var currentOffset: Micros { lock.withLock { offset } }

    func setOffset(_ value: Micros) { lock.withLock { offset = value } }

    /// How far the clock may be moved from wall time, either way: a century keeps every
    /// `now + lifetime` sum far inside `Int64` microseconds.
    static let maxOffsetSeconds: Double = 100 * 366 * 86_400

    /// The offset after moving `current` by `seconds`, or nil for a step that is not a finite number or that
    /// would put the clock more than ``maxOffsetSeconds`` from wall time.
    static func offset(_ current: Micros, advancedBy seconds: Double) -> Micros? {
        guard seconds.isFinite, abs(seconds) <= maxOffsetSeconds else { return nil }
        let delta = Micros((seconds * 1_000_000).rounded())
        let (next, overflow) = current.addingReportingOverflow(delta)
        guard !overflow, abs(Double(next)) <= maxOffsetSeconds * 1_000_000 else { return nil }
        return next
    }

    /// Moves the clock by `seconds`; refuses (returning false, changing nothing) a step ``offset(_:advancedBy:)``
    /// refuses.
    func advance(seconds: Double) -> Bool {
        lock.withLock {
            guard let next = Self.offset(offset, advancedBy: seconds) else { return false }
            offset = next
            return true
        }
    }
}
