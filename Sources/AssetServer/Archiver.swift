import Foundation
import WireFormat

/// The nightly archiving job: moves whole dates of records (by the date each was last updated) out of the live
/// table into one JSON Lines file per date.
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

    static func archive(databaseID: String, selection: Selection, store: Store, now: Micros) async throws -> Outcome {
        let (outcome, replacedFiles) = try await store.db.transaction { db -> (Outcome, [String]) in
            // Replicas archiving the same database (by hand and nightly) take turns.
            try await db.lockForTransaction(.archiving(database: databaseID))
            var replacedFiles: [String] = []
            let days = try await db.rows(
                """
                SELECT updated_at / \(Timestamp.microsPerDay) AS day, count(*) AS n FROM records
                WHERE database_id = ? GROUP BY day ORDER BY day
                """,
                databaseID
            ).map { (day: try $0.int64("day"), count: try $0.int("n")) }
            var chosen: [(day: Int64, count: Int)] = []
            switch selection {
            case .before(let limit):
                chosen = days.filter { $0.day < limit }
            case .keepAtMost(let limit):
                var live = days.reduce(0) { $0 + $1.count }
                for day in days where live > limit {
                    chosen.append(day)
                    live -= day.count
                }
            }
            var outcome = Outcome()
            for (day, count) in chosen {
                let date = Timestamp.date(day: day)
                let from = day * Timestamp.microsPerDay
                let to = from + Timestamp.microsPerDay
                let rows = try await db.rows(
                    """
                    SELECT * FROM records WHERE database_id = ? AND updated_at >= ? AND updated_at < ?
                    ORDER BY updated_at, id
                    """,
                    databaseID, from, to
                ).map(RecordRow.init)
                let key = "archives/\(databaseID)/\(date).jsonl"
                var lines = rows.map { (id: $0.id, line: $0.archivedJSON.jsonText) }
                // A date archived before (records seeded into the past later) keeps its other records.
                if let existing = try await db.row("SELECT file FROM objects WHERE key = ?", key)?.string("file"),
                    let text = try? String(contentsOfFile: store.blobPath(existing), encoding: .utf8)
                {
                    let fresh = Set(lines.map(\.id))
                    let kept = text.split(separator: "\n").compactMap { line -> (id: String, line: String)? in
                        guard let id = (try? JSONValue(parsing: String(line)))?["id"]?.stringValue, !fresh.contains(id)
                        else {
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
                let file = try store.adoptTemporaryFile(writer.path)
                if let old = try await Store.insertObject(
                    db, key: key, file: file, size: writer.size, md5: md5, contentType: "application/x-ndjson", now: now
                ) {
                    replacedFiles.append(old)
                }
                try await db.execute(
                    """
                    INSERT INTO record_archives (id, database_id, date, key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (database_id, date) DO UPDATE SET updated_at = excluded.updated_at
                    """,
                    Identifier.make(), databaseID, date, key, now, now)
                try await db.execute(
                    "DELETE FROM records WHERE database_id = ? AND updated_at >= ? AND updated_at < ?",
                    databaseID, from, to)
                try await db.execute(
                    "UPDATE databases SET num_records = num_records - ? WHERE id = ?", count, databaseID)
                outcome.dates.append(date)
                outcome.records += count
            }
            return (outcome, replacedFiles)
        }
        for file in replacedFiles { unlink(store.blobPath(file)) }
        return outcome
    }
}
