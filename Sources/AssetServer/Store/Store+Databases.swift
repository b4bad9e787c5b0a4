import GRDB
import WireFormat

struct DatabaseRow: Sendable {
    var id: String
    var name: String
    var type: String
    var owner: String?
    var createdAt: Micros
    var lastWriteAt: Micros?
    var numRecords: Int

    init(row: Row) {
        id = row["id"]
        name = row["name"]
        type = row["type"]
        owner = row["owner"]
        createdAt = row["created_at"]
        lastWriteAt = row["last_write_at"]
        numRecords = row["num_records"]
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
    func createDatabase(name: String, type: String, owner: String?, now: Micros) throws -> DatabaseRow {
        let id = Identifier.make()
        return try pool.write { db in
            try db.execute(
                sql: "INSERT INTO databases (id, name, type, owner, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, name, type, owner, now])
            return DatabaseRow(row: try Row.fetchOne(db, sql: "SELECT * FROM databases WHERE id = ?", arguments: [id])!)
        }
    }

    func database(_ id: String) throws -> DatabaseRow? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM databases WHERE id = ?", arguments: [id]).map(DatabaseRow.init)
        }
    }

    /// Databases visible to `owner` (every database when `owner` is nil), in creation order.
    func databases(visibleTo owner: String?, page: PageWindow?) throws -> (rows: [DatabaseRow], total: Int) {
        try pool.read { db in
            let filter = owner == nil ? "" : "WHERE owner = ?"
            let arguments: StatementArguments = owner.map { [$0] } ?? []
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM databases \(filter)", arguments: arguments)!
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM databases \(filter) ORDER BY rowid \(page?.sqlLimit ?? "")",
                arguments: arguments)
            return (rows.map(DatabaseRow.init), total)
        }
    }

    func touchDatabase(_ db: GRDB.Database, id: String, now: Micros) throws {
        try db.execute(sql: "UPDATE databases SET last_write_at = ? WHERE id = ?", arguments: [now, id])
    }
}

// MARK: Tokens

extension Store {
    func addToken(digest: String, now: Micros) throws -> String {
        let id = Identifier.make()
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO tokens (id, digest, created_at) VALUES (?, ?, ?)", arguments: [id, digest, now])
        }
        return id
    }

    func tokenID(digest: String) throws -> String? {
        try pool.read { db in
            try String.fetchOne(db, sql: "SELECT id FROM tokens WHERE digest = ?", arguments: [digest])
        }
    }
}
