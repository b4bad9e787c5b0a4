import Foundation
import GRDB

/// Look-ups of one path or one job: the watch service asks about files one at a time, where a push
/// loads the whole manifest once. Each is a single statement, cached, read outside a transaction
/// (one statement needs none): they run several times per file.
extension StateStore {
    /// The job with this id as it is now, or nil if it is gone (pruned, or replaced by a failure).
    public func pushJob(id: Int64) throws -> PushJob? {
        try pool.unsafeRead { db in
            try PushJob.fetchOne(db.cachedStatement(sql: "SELECT * FROM push_jobs WHERE id = ?"), arguments: [id])
        }
    }

    /// What the store knows of a path: its manifest entry and its active job, in one read.
    public func pushRecord(path: String) throws -> (manifest: ManifestEntry?, active: PushJob?) {
        try pool.read { db in
            let entry = try ManifestEntry.fetchOne(db.cachedStatement(sql: "SELECT * FROM manifest WHERE path = ?"),
                                                   arguments: [path])
            let job = try PushJob.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM push_jobs WHERE path = ? AND state NOT IN ('done', 'failed')
                """), arguments: [path])
            return (entry, job)
        }
    }

    public func manifestEntry(path: String) throws -> ManifestEntry? {
        try pool.unsafeRead { db in
            try ManifestEntry.fetchOne(db.cachedStatement(sql: "SELECT * FROM manifest WHERE path = ?"), arguments: [path])
        }
    }

    /// Jobs still to finish (cheap: counted on the index of active jobs).
    public func activePushCount() throws -> Int {
        try pool.unsafeRead { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM push_jobs WHERE state NOT IN ('done', 'failed')"))
                ?? 0
        }
    }
}
