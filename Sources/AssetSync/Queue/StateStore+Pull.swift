import Foundation
import GRDB

extension StateStore {
    /// Queues an asset for download into `path`, keeping an active job for the same asset as it is.
    public func enqueuePull(path: String, assetId: String) throws {
        try pool.write { db in
            let now = Date()
            try PullJob.filter(Column("path") == path).filter(Column("state") == PullState.failed).deleteAll(db)
            if var active = try PullJob.filter(Column("path") == path)
                .filter([PullState.queued, .downloading, .verifying].contains(Column("state"))).fetchOne(db) {
                guard active.assetId != assetId else { return }
                active.assetId = assetId
                active.state = .queued
                active.bytes = 0
                active.size = nil
                active.etag = nil
                active.updatedAt = now
                try active.update(db)
                return
            }
            var job = PullJob(id: nil, path: path, assetId: assetId, state: .queued, bytes: 0, createdAt: now, updatedAt: now)
            try job.insert(db)
        }
    }

    public func recordUnpullable(path: String, assetId: String, reason: String) throws {
        try pool.write { db in
            let now = Date()
            try PullJob.filter(Column("path") == path).filter(Column("state") != PullState.done).deleteAll(db)
            var job = PullJob(id: nil, path: path, assetId: assetId, state: .failed, bytes: 0, error: reason,
                              failedState: .queued, createdAt: now, updatedAt: now)
            try job.insert(db)
        }
    }

    public func activePullJobs(after id: Int64, limit: Int) throws -> [PullJob] {
        // `+state`: see ``activePushJobsRequest(after:limit:)``.
        try pool.read { db in
            try PullJob.filter(literal: "+state IN \(PullJob.activeStates.map(\.rawValue))")
                .filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    public func activePullJobs() throws -> [String: PullJob] { try activeJobsByPath(of: PullJob.self) }

    public func commit(_ job: inout PullJob, state: PullState) throws { try commitState(&job, state) }

    /// Commits `done` and the manifest entry in one transaction.
    public func finish(_ job: inout PullJob, entry: ManifestEntry) throws {
        job.state = .done
        job.error = nil
        job.updatedAt = Date()
        let copy = job
        try transitions.write { db in
            try copy.updateRow(db)
            try entry.save(db)
        }
    }

    public func fail(_ job: inout PullJob, reason: String) throws {
        job.failedState = job.state
        job.error = reason
        try commit(&job, state: .failed)
    }

    public func retryFailedPulls() throws -> Int {
        try pool.write { db in
            let failed = try PullJob.filter(Column("state") == PullState.failed).fetchAll(db)
            for var job in failed {
                job.requeue()
                try job.update(db)
            }
            return failed.count
        }
    }

    public func pullCounts() throws -> [PullState: Int] { try stateCounts(of: PullJob.self) }

    public func failedPulls() throws -> [PullJob] { try failedJobs(of: PullJob.self) }

    public func pruneDonePulls() throws { try pruneDoneJobs(of: PullJob.self) }
}
