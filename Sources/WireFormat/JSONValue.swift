/// A JSON value whose objects keep their members in the order the text gave them and whose numbers
/// keep the text they were written with.
///
/// Presigned POST `fields` must be sent in the server's order, CSV columns follow the order of a
/// record's data, and a record's numbers must come back as they were sent; `JSONDecoder` and
/// `JSONSerialization` lose all three.
///
/// An object holds each key once: parsing keeps a repeated key's last value at the place the key
/// first appeared, as Python's `json` and JavaScript's `JSON.parse` do (the server being emulated is
/// Python), so that client and server read the same text the same way.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number as written (`1`, `1.0`, `-2e3`); two numbers are equal when their values are.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    /// One member of an object.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// An object from literal members, in order: `.object(["id": .string(id), "data": data])`.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { Member(key: $0.key, value: $0.value) })
    }

    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    public static func optionalString(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b || Double(a) == Double(b)
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    /// The value of an object's member (nil for a missing key or a value that is not an object).
    public subscript(key: String) -> JSONValue? {
        members?.first { $0.key == key }?.value
    }

    public var members: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value as text for a table cell: strings bare, null empty, anything else as JSON.
    public var cellText: String {
        switch self {
        case .null: ""
        case .string(let value): value
        case .bool(let value): value ? "true" : "false"
        case .number(let lexeme): lexeme
        case .array, .object: jsonText
        }
    }
}

/// Literals for building values in code: `["name": "Ann", "age": 42, "active": true, "team": .null]`.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
