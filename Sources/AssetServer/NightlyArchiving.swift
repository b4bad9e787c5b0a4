import WireFormat
import Logging
import ServiceLifecycle

/// The nightly job of the retention rule: every `interval`, each database over the live-record limit has its
/// oldest dates archived until it is back within the limit. `POST /_admin/archive` runs the same pass on demand.
/// Each pass is a row of `archiving_passes`, so that an operator (and a test) can see when passes ran, on which
/// replica, and what they archived.
struct NightlyArchiving: Service {
    let state: ServerState
    var interval: Duration = .seconds(3600)
    /// Held inside the claim's transaction (tests: another replica wakes while this one claims).
    var claimPause: Duration = .zero

    func run() async throws {
        // Shutdown cancels the sleep; that is the normal end of this service, not a failure.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await archiveOverfullDatabases()
            }
        }
    }

    /// Replicas each wake every `interval`; the first to take the advisory lock records its pass, and the
    /// others, finding it recent, skip theirs: one pass per interval across the cluster. Returns the pass's
    /// start (wall-clock microseconds), or nil when this replica skips.
    func claimPass() async throws -> Micros? {
        let wallNow = ExportLeases.wallNow()
        // A little slack, so that a replica waking just early still counts as the next night.
        let recent = wallNow - interval.micros / 10 * 9
        let replica = state.leases.runner
        return try await state.store.db.transaction { db in
            guard try await db.tryLockForTransaction(.nightlyArchiving) else { return nil }
            let last = try await db.row("SELECT max(started_at) AS last FROM archiving_passes")
            if let lastMicros = try last?.optionalInt64("last"), lastMicros > recent { return nil }
            try await db.execute(
                "INSERT INTO archiving_passes (started_at, replica) VALUES (?, ?)", wallNow, replica)
            if claimPause > .zero { try await Task.sleep(for: claimPause) }
            return wallNow
        }
    }

    func archiveOverfullDatabases() async {
        let limit = state.limits.maxLiveRecords
        do {
            guard let started = try await claimPass() else { return }
            var archived = 0
            for database in try await state.store.databases(visibleTo: nil, page: nil).rows
            where database.numRecords > limit {
                let outcome = try await Archiver.archive(
                    databaseID: database.id, selection: .keepAtMost(limit), store: state.store, blobs: state.blobs,
                    now: state.clock.now)
                archived += outcome.records
                state.logger.info(
                    "archived", metadata: ["database": "\(database.id)", "dates": "\(outcome.dates.count)"])
            }
            try await state.store.db.reader.execute(
                "UPDATE archiving_passes SET archived_records = ? WHERE started_at = ? AND replica = ?", archived,
                started, state.leases.runner)
        } catch {
            state.logger.error("nightly archiving failed", metadata: ["error": "\(error)"])
        }
    }
}
