import WireFormat

/// Records as the CSV the records endpoint and CSV exports serve: a header `id,created_at,<fields>` and a
/// row per record, through ``CSV`` (quoting and the formula rule).
enum RecordsCSV {
    /// The data fields of `records` in the order they first appear.
    static func fieldNames(_ datas: some Sequence<JSONValue>) -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        for data in datas {
            for member in data.members ?? [] where seen.insert(member.key).inserted { names.append(member.key) }
        }
        return names
    }

    /// A data value as a cell: strings bare, null or missing empty, anything else as JSON.
    static func cell(_ value: JSONValue?) -> String { value?.cellText ?? "" }

    static func document(_ records: [RecordRow]) -> String {
        let datas = records.map(\.dataValue)
        let names = fieldNames(datas)
        var out = CSV.line(["id", "created_at"] + names)
        for (record, data) in zip(records, datas) {
            out += CSV.line([record.id, Timestamp.iso(record.createdAt)] + names.map { cell(data[$0]) })
        }
        return out
    }
}
