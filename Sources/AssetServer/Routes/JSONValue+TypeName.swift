import WireFormat

extension JSONValue {
    /// The Python type name DRF's validation messages use for a value of this kind.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        }
    }
}
