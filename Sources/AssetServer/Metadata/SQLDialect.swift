/// The only place where SQLite and PostgreSQL statements differ.
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// The column that orders rows as they were inserted: SQLite's implicit `rowid`, a PostgreSQL identity column.
    var insertionOrder: String {
        switch self {
        case .sqlite: "rowid"
        case .postgres: "seq"
        }
    }

    /// A condition (two parameters: field name, value) that the top-level field of `records.data` is a string
    /// equal to the value.
    var jsonFieldEqualsText: String {
        switch self {
        case .sqlite:
            "EXISTS (SELECT 1 FROM json_each(records.data) AS f WHERE f.key = ? AND f.type = 'text' AND f.value = ?)"
        case .postgres:
            "(jsonb_typeof(records.data::jsonb -> CAST(? AS text)) = 'string' AND records.data::jsonb ->> CAST(? AS text) = CAST(? AS text))"
        }
    }

    /// Parameters for ``jsonFieldEqualsText``.
    func jsonFieldEqualsTextArguments(field: String, value: String) -> [SQLValue] {
        switch self {
        case .sqlite: [.text(field), .text(value)]
        case .postgres: [.text(field), .text(field), .text(value)]
        }
    }

    /// A condition (one parameter: field name) that the top-level field of `records.data` is present and not null.
    var jsonFieldIsPresent: String {
        switch self {
        case .sqlite: "EXISTS (SELECT 1 FROM json_each(records.data) AS f WHERE f.key = ? AND f.type != 'null')"
        case .postgres: "COALESCE(jsonb_typeof(records.data::jsonb -> CAST(? AS text)), 'null') != 'null'"
        }
    }

    /// Appended to a `SELECT` whose rows the transaction goes on to change: replicas wait for each other there
    /// (SQLite's write transaction is already exclusive).
    var forUpdate: String {
        switch self {
        case .sqlite: ""
        case .postgres: "FOR UPDATE"
        }
    }

    /// Appended to a `SELECT` that claims rows: other replicas skip them instead of waiting.
    var claimRows: String {
        switch self {
        case .sqlite: ""
        case .postgres: "FOR UPDATE SKIP LOCKED"
        }
    }

    /// `sql` with its `?` placeholders as this database numbers them (`$1`, `$2`, … on PostgreSQL).
    /// A `?` inside a quoted literal or identifier is left alone.
    func numberingPlaceholders(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var quote: Character?
        var number = 0
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}
