import Foundation
import Hummingbird
import WireFormat

extension Call {
    func listDatabases(organization: String?) async throws -> Response {
        if let organization, organization != state.organizationID { throw APIError.notFound }
        let window = negotiation.paginates ? try PageWindow.from(query, maxSize: 1000) : nil
        let (rows, total) = try await store.databases(visibleTo: principal.owner, page: window)
        let items = rows.map { $0.json(organizationID: state.organizationID) }
        guard let window else { return jsonResponse(.ok, .array(items)) }
        return try pageResponse(items: items, window: window, total: total, hasNext: window.offset + rows.count < total)
    }

    func getDatabase(_ id: String) async throws -> Response {
        jsonResponse(.ok, try await database(id).json(organizationID: state.organizationID))
    }

    func createDatabase() async throws -> Response {
        let body = try await bodyObject(allowed: ["name", "type"])
        var errors: [JSONValue.Member] = []
        let name = Validate.string(body["name"], field: "name", maxLength: 255, errors: &errors)
        var type = "Key-Value"
        if let given = body["type"] {
            if let value = given.stringValue, ["Asset", "Key-Value"].contains(value) {
                type = value
            } else {
                errors.add("type", "\"\(given.plainText)\" is not a valid choice.")
            }
        }
        guard errors.isEmpty, let name else { throw APIError(status: .badRequest, body: .object(errors)) }
        let row = try await store.createDatabase(name: name, type: type, owner: principal.owner, now: now)
        return jsonResponse(.created, row.json(organizationID: state.organizationID))
    }
}

extension [JSONValue.Member] {
    /// Adds a DRF field error: `{"field": ["message"]}`.
    mutating func add(_ field: String, _ message: String) {
        append(.init(key: field, value: .array([.string(message)])))
    }
}

/// Field checks with DRF's messages.
enum Validate {
    /// A required, non-blank string of at most `maxLength` Unicode code points.
    static func string(_ value: JSONValue?, field: String, maxLength: Int, errors: inout [JSONValue.Member]) -> String?
    {
        func fail(_ message: String) -> String? {
            errors.add(field, message)
            return nil
        }
        guard let value, value != .null else {
            return fail(value == nil ? "This field is required." : "This field may not be null.")
        }
        guard case .string(let text) = value else { return fail("Not a valid string.") }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return fail("This field may not be blank.") }
        if text.unicodeScalars.count > maxLength {
            return fail("Ensure this field has no more than \(maxLength) characters.")
        }
        return text
    }
}

extension JSONValue {
    /// The value as DRF quotes it in messages: strings bare, anything else as JSON.
    var plainText: String { stringValue ?? jsonText }
}
