import Logging
import ServiceLifecycle

/// The nightly job of the retention rule: every `interval`, each database over the live-record limit has its
/// oldest dates archived until it is back within the limit. `POST /_admin/archive` runs the same pass on demand.
struct NightlyArchiving: Service {
    let state: ServerState
    var interval: Duration = .seconds(3600)

    func run() async throws {
        // Shutdown cancels the sleep; that is the normal end of this service, not a failure.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await archiveOverfullDatabases()
            }
        }
    }

    /// Replicas each wake every `interval`; the first to take the advisory lock records the pass in `meta`, and
    /// the others, finding it recent, skip theirs: one pass per interval across the cluster.
    func claimPass() async throws -> Bool {
        let wallNow = ExportLeases.wallNow()
        // A little slack, so that a replica waking just early still counts as the next night.
        let recent = wallNow - interval.micros * 9 / 10
        return try await state.store.db.transaction { db in
            guard try await db.tryLockForTransaction(.nightlyArchiving) else { return false }
            if let last = try await db.row("SELECT value FROM meta WHERE key = 'nightly_archived_at'"),
                let lastMicros = Int64(try last.string("value")), lastMicros > recent
            {
                return false
            }
            try await db.execute(
                """
                INSERT INTO meta (key, value) VALUES ('nightly_archived_at', ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, String(wallNow))
            return true
        }
    }

    func archiveOverfullDatabases() async {
        let limit = state.limits.maxLiveRecords
        do {
            guard try await claimPass() else { return }
            for database in try await state.store.databases(visibleTo: nil, page: nil).rows
            where database.numRecords > limit {
                let outcome = try await Archiver.archive(
                    databaseID: database.id, selection: .keepAtMost(limit), store: state.store, blobs: state.blobs,
                    now: state.clock.now)
                state.logger.info(
                    "archived", metadata: ["database": "\(database.id)", "dates": "\(outcome.dates.count)"])
            }
        } catch {
            state.logger.error("nightly archiving failed", metadata: ["error": "\(error)"])
        }
    }
}
