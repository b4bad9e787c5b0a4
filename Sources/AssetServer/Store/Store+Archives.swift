import GRDB
import WireFormat

struct ArchiveRow: Sendable {
    var id: String
    var databaseID: String
    var date: String
    var key: String
    var createdAt: Micros
    var updatedAt: Micros

    init(row: Row) {
        id = row["id"]
        databaseID = row["database_id"]
        date = row["date"]
        key = row["key"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
    }
}

extension Store {
    /// Archives, newest date first unless `oldestFirst`.
    func archives(databaseID: String, oldestFirst: Bool, page: PageWindow) throws -> (rows: [ArchiveRow], total: Int) {
        try pool.read { db in
            let total = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM record_archives WHERE database_id = ?", arguments: [databaseID])!
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM record_archives WHERE database_id = ?
                    ORDER BY date \(oldestFirst ? "ASC" : "DESC") \(page.sqlLimit)
                    """,
                arguments: [databaseID])
            return (rows.map(ArchiveRow.init), total)
        }
    }
}
