import Foundation
import GRDB

/// Look-ups of one path or one job: the watch service asks about files one at a time, where a push
/// loads the whole manifest once.
extension StateStore {
    /// The job with this id as it is now, or nil if it was pruned.
    public func pushJob(id: Int64) throws -> PushJob? {
        try pool.read { db in try PushJob.fetchOne(db, key: id) }
    }

    /// The active job of a path, if any.
    public func activePushJob(path: String) throws -> PushJob? {
        try pool.read { db in
            try PushJob.filter(Column("path") == path).filter(PushState.active.contains(Column("state"))).fetchOne(db)
        }
    }

    public func manifestEntry(path: String) throws -> ManifestEntry? {
        try pool.read { db in try ManifestEntry.fetchOne(db, key: path) }
    }

    /// Jobs still to finish (cheap: counted on the index of active jobs).
    public func activePushCount() throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM push_jobs WHERE state NOT IN ('done', 'failed')") ?? 0
        }
    }
}
