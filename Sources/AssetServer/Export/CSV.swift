/// RFC 4180 text: CRLF line ends, fields quoted when they hold a comma, a quote or a line break.
enum CSV {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\r\n" }

    /// A data value as a cell: strings bare, null empty, anything else as JSON.
    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: ""
        case .string(let text)?: text
        case let other?: other.serialized
        }
    }

    /// The data fields of `records` in the order they first appear.
    static func fieldNames(_ datas: some Sequence<JSONValue>) -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        for data in datas {
            for member in data.members ?? [] where seen.insert(member.key).inserted { names.append(member.key) }
        }
        return names
    }

    /// A header row `id,created_at,<fields>` and one row per record.
    static func document(_ records: [RecordRow]) -> String {
        let datas = records.map(\.dataValue)
        let names = fieldNames(datas)
        var out = line(["id", "created_at"] + names)
        for (record, data) in zip(records, datas) {
            out += line([record.id, Timestamp.iso(record.createdAt)] + names.map { cell(data[$0]) })
        }
        return out
    }
}
