/// RFC 4180 text: CRLF line ends, fields quoted when they hold a comma, a quote or a line break, and
/// cells a spreadsheet would run as formulas defused.
enum CSV {
    static func field(_ text: String) -> String {
        let text = formulaSafe(text)
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// OWASP's rule for CSV injection: text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
    /// gets a leading `'`. Plain numbers (`-5`, `+1.5e3`) compute nothing and stay as they are; the client's
    /// `PixieBrix.CSV.formulaSafe` applies the same rule to what it writes.
    static func formulaSafe(_ text: String) -> String {
        guard let first = text.utf8.first, [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first),
            !isPlainNumber(text)
        else { return text }
        return "'" + text
    }

    static func isPlainNumber(_ text: String) -> Bool {
        text.wholeMatch(of: /[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/) != nil
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
