import WireFormat
import Foundation
import Logging
import ServiceLifecycle

/// How this process holds export jobs: a lease that it renews while it runs one; a job whose lease ran out
/// (its replica died) is taken over by another. Leases are in wall-clock time, not the shiftable server clock.
struct ExportLeases: Sendable {
    /// This process, as recorded on the jobs it runs.
    let runner = Identifier.make()
    let duration: Duration

    var renewEvery: Duration { duration / 3 }

    func until() -> Micros { Self.wallNow() + duration.micros }

    static func wallNow() -> Micros { Timestamp.micros(Date()) }
}

extension Duration {
    /// Whole microseconds, clamped to `Int64`.
    var micros: Micros {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000_000).partialValue
    }
}

/// With shared metadata (PostgreSQL): every `interval`, takes over export jobs whose runner stopped renewing.
struct ExportJobSweeper: Service {
    let state: ServerState
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await sweep()
            }
        }
    }

    func sweep() async {
        do {
            while let claimed = try await state.store.claimExportJob(
                runner: state.leases.runner, wallNow: ExportLeases.wallNow(), leaseUntil: state.leases.until())
            {
                state.logger.warning("export taken over", metadata: ["job": "\(claimed.id)"])
                let state = self.state
                state.exports.start(claimed.id) { await Exporter.run(claimed, state: state) }
            }
        } catch {
            state.logger.error("export sweep failed", metadata: ["error": "\(error)"])
        }
    }
}

/// With shared metadata (PostgreSQL): follows the `/_admin/clock` offset that any replica may move, a few times
/// a second, rather than reading it on every request.
struct ClockFollower: Service {
    let state: ServerState
    var interval: Duration = .milliseconds(200)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await state.refreshClock()
            }
        }
    }
}
