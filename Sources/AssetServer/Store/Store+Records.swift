import WireFormat

struct RecordRow: Sendable {
    var id: String
    var data: String
    var createdAt: Micros
    var updatedAt: Micros

    init(row: SQLRow) throws {
        id = try row.string("id")
        data = try row.string("data")
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
    }

    var dataValue: JSONValue { (try? JSONValue(parsing: data)) ?? .object([]) }

    /// The API's shape: `{"id", "data", "created_at"}`.
    var json: JSONValue {
        .object(["id": .string(id), "data": dataValue, "created_at": .string(Timestamp.iso(createdAt))])
    }

    /// The archive's shape: the record's last state, with when it was last updated.
    var archivedJSON: JSONValue {
        .object([
            "id": .string(id), "data": dataValue, "created_at": .string(Timestamp.iso(createdAt)),
            "updated_at": .string(Timestamp.iso(updatedAt)),
        ])
    }
}

/// Which live records a listing or an export selects.
struct RecordFilter: Sendable {
    var createdFrom: Micros?
    /// Inclusive upper bound on `created_at`.
    var createdThrough: Micros?
    var equals: [(field: String, value: String)] = []
    var isNull: [(field: String, isNull: Bool)] = []

    func sql(databaseID: String, dialect: SQLDialect) -> (String, [SQLValue]) {
        var clauses = ["database_id = ?"]
        var arguments: [SQLValue] = [.text(databaseID)]
        if let createdFrom {
            clauses.append("created_at >= ?")
            arguments.append(.int(createdFrom))
        }
        if let createdThrough {
            clauses.append("created_at <= ?")
            arguments.append(.int(createdThrough))
        }
        for (field, value) in equals {
            clauses.append(dialect.jsonFieldEqualsText)
            arguments += dialect.jsonFieldEqualsTextArguments(field: field, value: value)
        }
        for (field, isNull) in isNull {
            clauses.append((isNull ? "NOT " : "") + dialect.jsonFieldIsPresent)
            arguments.append(.text(field))
        }
        return (clauses.joined(separator: " AND "), arguments)
    }
}

enum MergeStrategy: String, Sendable {
    /// The new data replaces the old.
    case replace
    /// Top-level fields of the new data overwrite the old ones; other old fields stay.
    case shallow
    /// Like `shallow`, recursively into nested objects.
    case deep

    func merge(_ old: JSONValue, _ new: JSONValue) -> JSONValue {
        switch self {
        case .replace: return new
        case .shallow, .deep:
            guard var members = old.members, let incoming = new.members else { return new }
            for member in incoming {
                if let index = members.firstIndex(where: { $0.key == member.key }) {
                    members[index].value = self == .deep ? merge(members[index].value, member.value) : member.value
                } else {
                    members.append(member)
                }
            }
            return .object(members)
        }
    }
}

struct SeedRecord: Sendable {
    var id: String
    var data: JSONValue
    var createdAt: Micros?
    var updatedAt: Micros?
}

extension Store {
    func upsertRecord(databaseID: String, id: String, data: JSONValue, strategy: MergeStrategy, now: Micros)
        async throws -> RecordRow
    {
        try await db.transaction { db in
            try await Store.upsert(
                db, databaseID: databaseID, id: id, data: data, strategy: strategy, createdAt: now, updatedAt: now)
            try await Store.touchDatabase(db, id: databaseID, now: now)
            return try RecordRow(
                row: try await Store.required(
                    db.row("SELECT * FROM records WHERE database_id = ? AND id = ?", databaseID, id)))
        }
    }

    /// Writes records with chosen timestamps (replacing any of the same id); returns how many.
    func seedRecords(databaseID: String, records: [SeedRecord], now: Micros) async throws -> Int {
        try await db.transaction { db in
            for record in records {
                let createdAt = record.createdAt ?? now
                try await Store.upsert(
                    db, databaseID: databaseID, id: record.id, data: record.data, strategy: .replace,
                    createdAt: createdAt, updatedAt: record.updatedAt ?? createdAt,
                    keepCreatedAt: record.createdAt == nil)
            }
            try await Store.touchDatabase(db, id: databaseID, now: now)
            return records.count
        }
    }

    private static func upsert(
        _ db: any SQLExecutor, databaseID: String, id: String, data: JSONValue, strategy: MergeStrategy,
        createdAt: Micros, updatedAt: Micros, keepCreatedAt: Bool = true
    ) async throws {
        if let old = try await db.row(
            "SELECT data, created_at FROM records WHERE database_id = ? AND id = ? \(db.dialect.forUpdate)",
            databaseID, id)
        {
            let oldData = (try? JSONValue(parsing: try old.string("data"))) ?? .object([])
            let merged = strategy.merge(oldData, data)
            let created: Micros = keepCreatedAt ? try old.int64("created_at") : createdAt
            try await db.execute(
                "UPDATE records SET data = ?, created_at = ?, updated_at = ? WHERE database_id = ? AND id = ?",
                merged.jsonText, created, updatedAt, databaseID, id)
        } else {
            try await db.execute(
                "INSERT INTO records (database_id, id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                databaseID, id, data.jsonText, createdAt, updatedAt)
            try await db.execute("UPDATE databases SET num_records = num_records + 1 WHERE id = ?", databaseID)
        }
    }

    /// Live records in creation order.
    func records(databaseID: String, filter: RecordFilter, limit: Int?, offset: Int) async throws -> [RecordRow] {
        try await Store.records(db.reader, databaseID: databaseID, filter: filter, limit: limit, offset: offset)
    }

    static func records(
        _ db: any SQLExecutor, databaseID: String, filter: RecordFilter, limit: Int?, offset: Int
    ) async throws -> [RecordRow] {
        var (whereClause, arguments) = filter.sql(databaseID: databaseID, dialect: db.dialect)
        var sql = "SELECT * FROM records WHERE \(whereClause) ORDER BY created_at, id"
        if let limit {
            sql += " LIMIT ? OFFSET ?"
            arguments += [limit.sqlValue, offset.sqlValue]
        }
        return try await db.rows(sql, arguments).map(RecordRow.init)
    }
}
