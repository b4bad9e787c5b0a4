import Foundation
import GRDB

/// Requests from a second process to the one that owns the state file (`assets retry` while
/// `assets watch` runs), passed through the `meta` table: SQLite serializes the writes, and the
/// owner looks for requests now and then.
extension StateStore {
    static let retryRequestKey = "retry_requested"
    static let retryHandledKey = "retry_handled"

    /// Asks the owner to requeue the failed jobs.
    public func requestRetry() throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                           arguments: [Self.retryRequestKey, ISO8601DateFormatter().string(from: Date())])
            try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [Self.retryHandledKey])
        }
    }

    /// Whether a retry request is still waiting; once taken, how many push and pull jobs it requeued.
    public func retryRequestOutcome() throws -> (pending: Bool, requeued: (push: Int, pull: Int)?) {
        try pool.read { db in
            let pending = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?",
                                              arguments: [Self.retryRequestKey]) != nil
            let handled = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?",
                                              arguments: [Self.retryHandledKey])
            let counts = handled?.split(separator: " ").compactMap { Int($0) }
            guard let counts, counts.count == 2 else { return (pending, nil) }
            return (pending, (counts[0], counts[1]))
        }
    }

    /// For the owner: takes a waiting retry request, requeues the failed jobs, and says how many
    /// (nil when no request waits).
    public func takeRetryRequest() throws -> (push: Int, pull: Int)? {
        let requested = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [Self.retryRequestKey])
        }
        guard requested != nil else { return nil }
        let pushes = try retryFailedPushes()
        let pulls = try retryFailedPulls()
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                           arguments: [Self.retryHandledKey, "\(pushes) \(pulls)"])
            try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [Self.retryRequestKey])
        }
        return (pushes, pulls)
    }
}
