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

    func archiveOverfullDatabases() async {
        let limit = state.limits.maxLiveRecords
        do {
            for database in try state.store.databases(visibleTo: nil, page: nil).rows where database.numRecords > limit
            {
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
