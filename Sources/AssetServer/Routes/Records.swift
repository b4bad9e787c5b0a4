import Hummingbird
import WireFormat

extension Call {
    func listRecords(_ databaseID: String) async throws -> Response {
        _ = try await database(databaseID)
        let filter = try recordFilter()
        let csv = negotiation.format == .csv
        guard negotiation.paginates else {
            let rows = try await store.records(databaseID: databaseID, filter: filter, limit: nil, offset: 0)
            return csv ? textResponse(.ok, RecordsCSV.document(rows)) : jsonResponse(.ok, .array(rows.map(\.json)))
        }
        let window = try PageWindow.from(query, maxSize: 10_000)
        var rows = try await store.records(databaseID: databaseID, filter: filter, limit: window.size + 1, offset: window.offset)
        let hasNext = rows.count > window.size
        if hasNext { rows.removeLast() }
        return try pageResponse(
            items: csv ? [] : rows.map(\.json), window: window, total: nil, hasNext: hasNext, isEmpty: rows.isEmpty,
            csv: csv ? { RecordsCSV.document(rows) } : nil)
    }

    /// `start_date`/`end_date` (inclusive days of creation), `data__<field>=<value>`, `data__<field>__isnull=`.
    func recordFilter() throws(APIError) -> RecordFilter {
        var filter = RecordFilter()
        for (name, value) in query.items {
            switch name {
            case "start_date":
                guard let day = Timestamp.parseDate(value) else { throw APIError.field(name, "Enter a valid date.") }
                filter.createdFrom = day * Timestamp.microsPerDay
            case "end_date":
                guard let day = Timestamp.parseDate(value) else { throw APIError.field(name, "Enter a valid date.") }
                filter.createdThrough = (day + 1) * Timestamp.microsPerDay - 1
            case let name where name.hasPrefix("data__") && name.hasSuffix("__isnull") && name.count > 14:
                let field = String(name.dropFirst(6).dropLast(8))
                switch value.lowercased() {
                case "true", "1": filter.isNull.append((field, true))
                case "false", "0": filter.isNull.append((field, false))
                default: throw APIError.field(name, "Must be a valid boolean.")
                }
            case let name where name.hasPrefix("data__") && name.count > 6:
                filter.equals.append((String(name.dropFirst(6)), value))
            default: break
            }
        }
        return filter
    }

    func createRecord(_ databaseID: String) async throws -> Response {
        _ = try await database(databaseID)
        let body = try await bodyObject(allowed: ["id", "data", "merge_strategy"])
        var errors: [JSONValue.Member] = []
        let id = Validate.string(body["id"], field: "id", maxLength: 255, errors: &errors)
        let data = Validate.object(body["data"], field: "data", errors: &errors)
        var strategy = MergeStrategy.replace
        if let given = body["merge_strategy"] {
            if let value = given.stringValue, let known = MergeStrategy(rawValue: value) {
                strategy = known
            } else {
                errors.append(
                    .init(key: "merge_strategy", value: .array([.string("\"\(given.plainText)\" is not a valid choice.")])))
            }
        }
        guard errors.isEmpty, let id, let data else { throw APIError(status: .badRequest, body: .object(errors)) }
        let row = try await store.upsertRecord(databaseID: databaseID, id: id, data: data, strategy: strategy, now: now)
        return jsonResponse(.created, row.json)
    }
}

extension Validate {
    static func object(_ value: JSONValue?, field: String, errors: inout [JSONValue.Member]) -> JSONValue? {
        guard let value else {
            errors.append(.init(key: field, value: .array([.string("This field is required.")])))
            return nil
        }
        guard value.members != nil else {
            errors.append(
                .init(
                    key: field,
                    value: .array([.string("Expected a dictionary of items but got type \"\(value.typeName)\".")])))
            return nil
        }
        return value
    }
}
