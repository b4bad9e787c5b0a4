import Foundation
import GRDB

/// The nightly archiving job: moves whole dates of records (by the date each was last updated) out of the live
/// table into one JSON Lines file per date, stored in the blob store.
enum Archiver {
    enum Selection: Sendable {
        /// Every date before this day (days since 1970-01-01).
        case before(day: Int64)
        /// The oldest dates until at most this many records remain.
        case keepAtMost(Int)
    }

    struct Outcome: Sendable {
        var dates: [String] = []
        var records = 0
    }

    /// One pass at a time in this process: the admin route and the nightly job would merge into the same files.
    static let passes = SerialGate()

    /// Per date: reads its records, writes the merged file to the blob store, then deletes exactly the records
    /// written (a record changed meanwhile stays live, and a later pass archives it).
    static func archive(
        databaseID: String, selection: Selection, store: Store, blobs: any BlobStore, now: Micros
    ) async throws -> Outcome {
        try await passes.run {
            var outcome = Outcome()
            for (day, date) in try chosenDays(databaseID: databaseID, selection: selection, store: store) {
                let count = try await archiveDay(
                    databaseID: databaseID, day: day, date: date, store: store, blobs: blobs, now: now)
                outcome.dates.append(date)
                outcome.records += count
            }
            return outcome
        }
    }

    private static func chosenDays(databaseID: String, selection: Selection, store: Store) throws -> [(
        Int64, String
    )] {
        let days = try store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT updated_at / \(Timestamp.microsPerDay) AS day, count(*) AS n FROM records
                    WHERE database_id = ? GROUP BY day ORDER BY day
                    """,
                arguments: [databaseID]
            ).map { (day: $0["day"] as Int64, count: $0["n"] as Int) }
        }
        var chosen: [Int64] = []
        switch selection {
        case .before(let limit):
            chosen = days.filter { $0.day < limit }.map(\.day)
        case .keepAtMost(let limit):
            var live = days.reduce(0) { $0 + $1.count }
            for day in days where live > limit {
                chosen.append(day.day)
                live -= day.count
            }
        }
        return chosen.map { ($0, Timestamp.date(day: $0)) }
    }

    private static func archiveDay(
        databaseID: String, day: Int64, date: String, store: Store, blobs: any BlobStore, now: Micros
    ) async throws -> Int {
        let from = day * Timestamp.microsPerDay
        let to = from + Timestamp.microsPerDay
        let key = "archives/\(databaseID)/\(date).jsonl"
        let (rows, archivedBefore) = try await store.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM records WHERE database_id = ? AND updated_at >= ? AND updated_at < ?
                    ORDER BY updated_at, id
                    """,
                arguments: [databaseID, from, to]
            ).map(RecordRow.init)
            let archivedBefore = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM record_archives WHERE database_id = ? AND date = ?)",
                arguments: [databaseID, date])!
            return (rows, archivedBefore)
        }
        var lines = rows.map { (id: $0.id, line: $0.archivedJSON.serialized) }
        // A date archived before (records seeded into the past later) keeps its other records.
        if archivedBefore, let existing = try await blobs.contents(of: key) {
            let fresh = Set(lines.map(\.id))
            let kept = String(decoding: existing, as: UTF8.self).split(separator: "\n").compactMap {
                line -> (id: String, line: String)? in
                guard let id = (try? JSONValue.parse(String(line)))?["id"]?.stringValue, !fresh.contains(id) else {
                    return nil
                }
                return (id, String(line))
            }
            lines = kept + lines
        }
        let writer = try HashingFileWriter(path: store.temporaryPath())
        defer { writer.discard() }
        for entry in lines { try writer.append(entry.line + "\n") }
        let md5 = try writer.finish()
        try await blobs.store(
            file: writer.path, key: key, size: writer.size, md5: md5, contentType: "application/x-ndjson", now: now)
        return try await store.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO record_archives (id, database_id, date, key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (database_id, date) DO UPDATE SET updated_at = excluded.updated_at
                    """,
                arguments: [Identifier.make(), databaseID, date, key, now, now])
            let delete = try db.cachedStatement(
                sql: "DELETE FROM records WHERE database_id = ? AND id = ? AND updated_at = ?")
            var deleted = 0
            for row in rows {
                try delete.execute(arguments: [databaseID, row.id, row.updatedAt])
                deleted += db.changesCount
            }
            try db.execute(
                sql: "UPDATE databases SET num_records = num_records - ? WHERE id = ?", arguments: [deleted, databaseID])
            return deleted
        }
    }
}

/// Runs one operation at a time, in arrival order.
actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<R: Sendable>(_ operation: @Sendable () async throws -> R) async throws -> R {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await operation()
    }
}
