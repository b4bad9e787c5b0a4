import WireFormat

struct DatabaseRow: Sendable {
    var id: String
    var name: String
    var type: String
    var owner: String?
    var createdAt: Micros
    var lastWriteAt: Micros?
    var numRecords: Int

    init(row: SQLRow) throws {
        id = try row.string("id")
        name = try row.string("name")
        type = try row.string("type")
        owner = try row.optionalString("owner")
        createdAt = try row.int64("created_at")
        lastWriteAt = try row.optionalInt64("last_write_at")
        numRecords = try row.int("num_records")
    }

    func json(organizationID: String) -> JSONValue {
        .object([
            "id": .string(id),
            "name": .string(name),
            "organization_id": .string(organizationID),
            "type": .string(type),
            "created_at": .string(Timestamp.iso(createdAt)),
            "last_write_at": lastWriteAt.map { .string(Timestamp.iso($0)) } ?? .null,
            "num_records": .int(numRecords),
        ])
    }
}

extension Store {
    func createDatabase(name: String, type: String, owner: String?, now: Micros) async throws -> DatabaseRow {
        let id = Identifier.make()
        return try await db.transaction { db in
            try await db.execute(
                "INSERT INTO databases (id, name, type, owner, created_at) VALUES (?, ?, ?, ?, ?)",
                id, name, type, owner, now)
            return try DatabaseRow(row: try await Store.required(db.row("SELECT * FROM databases WHERE id = ?", id)))
        }
    }

    func database(_ id: String) async throws -> DatabaseRow? {
        try await db.reader.row("SELECT * FROM databases WHERE id = ?", id).map(DatabaseRow.init)
    }

    /// Databases visible to `owner` (every database when `owner` is nil), in creation order.
    func databases(visibleTo owner: String?, page: PageWindow?) async throws -> (rows: [DatabaseRow], total: Int) {
        let db = self.db.reader
        let filter = owner == nil ? "" : "WHERE owner = ?"
        var arguments: [SQLValue] = owner.map { [.text($0)] } ?? []
        let total = try await db.rows("SELECT count(*) AS n FROM databases \(filter)", arguments).first?.int64("n") ?? 0
        var sql = "SELECT * FROM databases \(filter) ORDER BY \(dialect.insertionOrder)"
        if let page {
            sql += " LIMIT ? OFFSET ?"
            arguments += [page.size.sqlValue, page.offset.sqlValue]
        }
        return (try await db.rows(sql, arguments).map(DatabaseRow.init), Int(clamping: total))
    }

    static func touchDatabase(_ db: any SQLExecutor, id: String, now: Micros) async throws {
        try await db.execute("UPDATE databases SET last_write_at = ? WHERE id = ?", now, id)
    }
}

// MARK: Tokens

extension Store {
    func addToken(digest: String, now: Micros) async throws -> String {
        let id = Identifier.make()
        try await db.reader.execute("INSERT INTO tokens (id, digest, created_at) VALUES (?, ?, ?)", id, digest, now)
        return id
    }

    func tokenID(digest: String) async throws -> String? {
        try await db.reader.row("SELECT id FROM tokens WHERE digest = ?", digest)?.string("id")
    }
}
