import Foundation
import WireFormat

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

    /// One transaction per pass, under the database's advisory lock so that replicas (by hand and nightly) take
    /// turns: per date, the merged file is written to the blob store, then its records leave the live table.
    /// S3 objects are written before the commit; a rolled-back pass leaves a file that the next pass rewrites.
    static func archive(
        databaseID: String, selection: Selection, store: Store, blobs: any BlobStore, now: Micros
    ) async throws -> Outcome {
        let (outcome, cleanups) = try await store.db.transaction { db -> (Outcome, [BlobCleanup]) in
            try await db.lockForTransaction(.archiving(database: databaseID))
            var cleanups: [BlobCleanup] = []
            var outcome = Outcome()
            for (day, count) in try await chosenDays(databaseID: databaseID, selection: selection, db: db) {
                let date = Timestamp.date(day: day)
                cleanups.append(
                    try await archiveDay(
                        databaseID: databaseID, day: day, date: date, db: db, store: store, blobs: blobs, now: now))
                try await db.execute(
                    "UPDATE databases SET num_records = num_records - ? WHERE id = ?", count, databaseID)
                outcome.dates.append(date)
                outcome.records += count
            }
            return (outcome, cleanups)
        }
        for cleanup in cleanups { cleanup.afterCommit() }
        return outcome
    }

    private static func chosenDays(
        databaseID: String, selection: Selection, db: any SQLExecutor
    ) async throws -> [(day: Int64, count: Int)] {
        let days = try await db.rows(
            """
            SELECT updated_at / \(Timestamp.microsPerDay) AS day, count(*) AS n FROM records
            WHERE database_id = ? GROUP BY day ORDER BY day
            """,
            databaseID
        ).map { (day: try $0.int64("day"), count: try $0.int("n")) }
        switch selection {
        case .before(let limit):
            return days.filter { $0.day < limit }
        case .keepAtMost(let limit):
            var chosen: [(day: Int64, count: Int)] = []
            var live = days.reduce(0) { $0 + $1.count }
            for day in days where live > limit {
                chosen.append(day)
                live -= day.count
            }
            return chosen
        }
    }

    /// Writes the date's file (merged with what an earlier pass archived for it) and deletes the date's records.
    private static func archiveDay(
        databaseID: String, day: Int64, date: String, db: any SQLExecutor, store: Store, blobs: any BlobStore,
        now: Micros
    ) async throws -> BlobCleanup {
        let from = day * Timestamp.microsPerDay
        let to = from + Timestamp.microsPerDay
        let key = "archives/\(databaseID)/\(date).jsonl"
        let rows = try await db.rows(
            """
            SELECT * FROM records WHERE database_id = ? AND updated_at >= ? AND updated_at < ?
            ORDER BY updated_at, id
            """,
            databaseID, from, to
        ).map(RecordRow.init)
        var lines = rows.map { (id: $0.id, line: $0.archivedJSON.jsonText) }
        // A date archived before (records seeded into the past later) keeps its other records. Only a recorded
        // archive counts: a file left by a rolled-back pass holds records that are still live.
        let archivedBefore =
            try await db.integer(
                "SELECT count(*) AS n FROM record_archives WHERE database_id = ? AND date = ?", databaseID, date) > 0
        if archivedBefore, let existing = try await blobs.contents(of: key) {
            let fresh = Set(lines.map(\.id))
            let kept = String(decoding: existing, as: UTF8.self).split(separator: "\n").compactMap {
                line -> (id: String, line: String)? in
                guard let id = (try? JSONValue(parsing: String(line)))?["id"]?.stringValue, !fresh.contains(id) else {
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
        let cleanup = try await blobs.store(
            file: writer.path, key: key, size: writer.size, md5: md5, contentType: "application/x-ndjson", now: now,
            within: db)
        try await db.execute(
            """
            INSERT INTO record_archives (id, database_id, date, key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (database_id, date) DO UPDATE SET updated_at = excluded.updated_at
            """,
            Identifier.make(), databaseID, date, key, now, now)
        try await db.execute(
            "DELETE FROM records WHERE database_id = ? AND updated_at >= ? AND updated_at < ?", databaseID, from, to)
        return cleanup
    }
}
