/// A value bound to, or read from, a metadata statement: the few types the schema uses.
enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)
    case bool(Bool)
}

/// Something that can be bound as a statement parameter.
protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { var sqlValue: SQLValue { .int(self) } }
extension Int: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { var sqlValue: SQLValue { .bool(self) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// One result row by column name. Reading a column the row lacks, or of another type, is a programming error
/// caught as a thrown `SQLRowError` rather than a trap.
struct SQLRow: Sendable {
    var values: [String: SQLValue]

    func value(_ column: String) throws(SQLRowError) -> SQLValue {
        guard let value = values[column] else { throw SQLRowError(column: column, problem: "missing") }
        return value
    }

    func string(_ column: String) throws(SQLRowError) -> String {
        guard case .text(let text) = try value(column) else { throw SQLRowError(column: column, problem: "not text") }
        return text
    }

    func optionalString(_ column: String) throws(SQLRowError) -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let text): return text
        default: throw SQLRowError(column: column, problem: "not text")
        }
    }

    func int64(_ column: String) throws(SQLRowError) -> Int64 {
        guard let value = try optionalInt64(column) else { throw SQLRowError(column: column, problem: "null") }
        return value
    }

    func optionalInt64(_ column: String) throws(SQLRowError) -> Int64? {
        switch try value(column) {
        case .null: return nil
        case .int(let number): return number
        // SQLite keeps whatever a column is given; a decimal text from PostgreSQL's numeric also lands here.
        case .text(let text):
            guard let number = Int64(text) else { throw SQLRowError(column: column, problem: "not an integer") }
            return number
        case .bool(let flag): return flag ? 1 : 0
        }
    }

    func int(_ column: String) throws(SQLRowError) -> Int {
        guard let value = Int(exactly: try int64(column)) else {
            throw SQLRowError(column: column, problem: "out of range")
        }
        return value
    }

    /// SQLite has no boolean: `0`/`1` there, `true`/`false` on PostgreSQL.
    func bool(_ column: String) throws(SQLRowError) -> Bool {
        switch try value(column) {
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        default: throw SQLRowError(column: column, problem: "not a boolean")
        }
    }
}

struct SQLRowError: Error, CustomStringConvertible {
    var column: String
    var problem: String
    var description: String { "metadata column \(column): \(problem)" }
}
