import WireFormat

struct ArchiveRow: Sendable {
    var id: String
    var databaseID: String
    var date: String
    var key: String
    var createdAt: Micros
    var updatedAt: Micros

    init(row: SQLRow) throws {
        id = try row.string("id")
        databaseID = try row.string("database_id")
        date = try row.string("date")
        key = try row.string("key")
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
    }
}

extension Store {
    /// Archives, newest date first unless `oldestFirst`.
    func archives(databaseID: String, oldestFirst: Bool, page: PageWindow) async throws -> (
        rows: [ArchiveRow], total: Int
    ) {
        let db = self.db.reader
        let total = try await db.integer("SELECT count(*) AS n FROM record_archives WHERE database_id = ?", databaseID)
        let rows = try await db.rows(
            """
            SELECT * FROM record_archives WHERE database_id = ?
            ORDER BY date \(oldestFirst ? "ASC" : "DESC") LIMIT ? OFFSET ?
            """,
            databaseID, page.size, page.offset)
        return (try rows.map(ArchiveRow.init), Int(clamping: total))
    }
}
