import GRDB
import WireFormat

struct RecordRow: Sendable {
    var id: String
    var data: String
    var createdAt: Micros
    var updatedAt: Micros

    init(row: Row) {
        id = row["id"]
        data = row["data"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
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

    func sql(databaseID: String) -> (String, StatementArguments) {
        var clauses = ["database_id = ?"]
        var arguments: StatementArguments = [databaseID]
        if let createdFrom {
            clauses.append("created_at >= ?")
            arguments += [createdFrom]
        }
        if let createdThrough {
            clauses.append("created_at <= ?")
            arguments += [createdThrough]
        }
        for (field, value) in equals {
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(records.data) AS f WHERE f.key = ? AND f.type = 'text' AND f.value = ?)"
            )
            arguments += [field, value]
        }
        for (field, isNull) in isNull {
            clauses.append(
                (isNull ? "NOT " : "")
                    + "EXISTS (SELECT 1 FROM json_each(records.data) AS f WHERE f.key = ? AND f.type != 'null')")
            arguments += [field]
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
    func upsertRecord(databaseID: String, id: String, data: JSONValue, strategy: MergeStrategy, now: Micros) throws
        -> RecordRow
    {
        try pool.write { db in
            try upsert(
                db, databaseID: databaseID, id: id, data: data, strategy: strategy, createdAt: now, updatedAt: now)
            try touchDatabase(db, id: databaseID, now: now)
            return RecordRow(
                row: try Row.fetchOne(
                    db, sql: "SELECT * FROM records WHERE database_id = ? AND id = ?", arguments: [databaseID, id])!)
        }
    }

    /// Writes records with chosen timestamps (replacing any of the same id); returns how many.
    func seedRecords(databaseID: String, records: [SeedRecord], now: Micros) throws -> Int {
        try pool.write { db in
            for record in records {
                let createdAt = record.createdAt ?? now
                try upsert(
                    db, databaseID: databaseID, id: record.id, data: record.data, strategy: .replace,
                    createdAt: createdAt, updatedAt: record.updatedAt ?? createdAt,
                    keepCreatedAt: record.createdAt == nil)
            }
            try touchDatabase(db, id: databaseID, now: now)
            return records.count
        }
    }

    private func upsert(
        _ db: GRDB.Database, databaseID: String, id: String, data: JSONValue, strategy: MergeStrategy,
        createdAt: Micros, updatedAt: Micros, keepCreatedAt: Bool = true
    ) throws {
        if let old = try Row.fetchOne(
            db, sql: "SELECT data, created_at FROM records WHERE database_id = ? AND id = ?",
            arguments: [databaseID, id])
        {
            let oldData = (try? JSONValue(parsing: old["data"] as String)) ?? .object([])
            let merged = strategy.merge(oldData, data)
            let created: Micros = keepCreatedAt ? old["created_at"] : createdAt
            try db.execute(
                sql: "UPDATE records SET data = ?, created_at = ?, updated_at = ? WHERE database_id = ? AND id = ?",
                arguments: [merged.jsonText, created, updatedAt, databaseID, id])
        } else {
            try db.execute(
                sql: "INSERT INTO records (database_id, id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [databaseID, id, data.jsonText, createdAt, updatedAt])
            try db.execute(
                sql: "UPDATE databases SET num_records = num_records + 1 WHERE id = ?", arguments: [databaseID])
        }
    }

    /// Live records in creation order.
    func records(databaseID: String, filter: RecordFilter, limit: Int?, offset: Int) throws -> [RecordRow] {
        try pool.read { db in try records(db, databaseID: databaseID, filter: filter, limit: limit, offset: offset) }
    }

    func records(_ db: GRDB.Database, databaseID: String, filter: RecordFilter, limit: Int?, offset: Int) throws
        -> [RecordRow]
    {
        let (whereClause, arguments) = filter.sql(databaseID: databaseID)
        let limitClause = limit.map { "LIMIT \($0) OFFSET \(offset)" } ?? ""
        return try Row.fetchAll(
            db, sql: "SELECT * FROM records WHERE \(whereClause) ORDER BY created_at, id \(limitClause)",
            arguments: arguments
        ).map(RecordRow.init)
    }
}
