import Foundation
@testable import AssetSync
import PixieBrix
import Testing
import TestSupport
import WireFormat

@Suite("assets records --format csv")
struct CSVTests {
    /// Values that need quoting, and records with different fields so that pages of two carry different headers.
    static let tricky: [JSONValue] = [
        record("c1", ["text": "plain", "note, with comma": "a,b,c"], created: day(0)),
        record("c2", ["text": "she said \"hi\"", "note, with comma": "line one\nline two"], created: day(1)),
        record("c3", ["say \"what\"": "crlf\r\nend", "text": " leading and trailing "], created: day(2)),
        record("c4", ["text": "ünïcödé, 日本語", "n": .number("42"), "flag": .bool(true),
                      "nested": .object(["k": .string("v, w")])], created: day(3)),
        record("c5", ["text": "", "empty": .null], created: day(4)),
        record("c6,\"odd\"\nid", ["text": "\"\"", "note, with comma": "\r"], created: day(5)),
        record("c7", ["late field": "only here"], created: day(6)),
    ]

    /// The cells of ``tricky`` after `id` and `created_at`, in the header's order, written out by hand.
    static let trickyCells: [[String]] = [
        // text, note with comma, say "what", n, flag, nested, empty, late field
        ["plain", "a,b,c", "", "", "", "", "", ""],
        ["she said \"hi\"", "line one\nline two", "", "", "", "", "", ""],
        [" leading and trailing ", "", "crlf\r\nend", "", "", "", "", ""],
        ["ünïcödé, 日本語", "", "", "42", "true", #"{"k":"v, w"}"#, "", ""],
        ["", "", "", "", "", "", "", ""],
        // A cell that starts with CR is written with a leading ' so that spreadsheets do not run it.
        ["\"\"", "'\r", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", "only here"],
    ]

    @Test("commas, quotes and line breaks survive: the merged CSV parses back to the records' data")
    func trickyValuesParseBack() async throws {
        try await withFixture { fixture in
            try await Admin(fixture: fixture).seed(fixture.database, Self.tricky)
            let csv = fixture.scratch.path("tricky.csv")
            let json = fixture.scratch.path("tricky.jsonl")
            for pageSize in ["1", "2", "10000"] {
                #expect(try await assets(["records", "--database", fixture.database, "--format", "csv", "-o", csv,
                                          "--page-size", pageSize], fixture: fixture).status == 0)
                #expect(try await assets(["records", "--database", fixture.database, "--format", "jsonl", "-o", json],
                                         fixture: fixture).status == 0)
                let rows = try csvRows(read(csv))
                let header = try #require(rows.first)
                #expect(header == ["id", "created_at", "text", "note, with comma", "say \"what\"", "n", "flag", "nested",
                                   "empty", "late field"], "page size \(pageSize)")
                #expect(rows.count == Self.tricky.count + 1)
                #expect(rows.allSatisfy { $0.count == header.count })
                let records = try String(decoding: read(json), as: UTF8.self).split(separator: "\n").map {
                    try JSONValue(parsing: Data($0.utf8))
                }
                for (row, record) in zip(rows.dropFirst(), records) {
                    #expect(row[0] == record["id"]?.stringValue)
                    #expect(row[1] == record["created_at"]?.stringValue)
                }
                #expect(Array(rows.dropFirst().map { Array($0.dropFirst(2)) }) == Self.trickyCells, "page size \(pageSize)")
            }
        }
    }

    @Test("pages with different headers merge into what the server writes for the whole list in one page")
    func mergedEqualsSinglePage() async throws {
        try await withFixture { fixture in
            try await Admin(fixture: fixture).seed(fixture.database, Self.tricky)
            var whole = Data()
            try await fixture.client.recordPages(database: fixture.database, as: .csv) { whole.append($0.body) }
            for pageSize in ["1", "2", "3"] {
                let csv = fixture.scratch.path("merged-\(pageSize).csv")
                #expect(try await assets(["records", "--database", fixture.database, "--format", "csv", "-o", csv,
                                          "--page-size", pageSize], fixture: fixture).status == 0)
                #expect(try read(csv) == whole, "page size \(pageSize)")
            }
        }
    }

    @Test("the merger copies pages with the same header through and pads rows written before a column appeared")
    func mergerUnit() throws {
        let merger = try CSVPageMerger()
        #expect(try merger.add(Data("id,created_at,a\r\n1,t,x\r\n2,t,\"y,z\"\r\n".utf8)) == 2)
        #expect(try merger.add(Data("id,created_at,a\r\n3,t,w\r\n".utf8)) == 1)
        #expect(try merger.add(Data("id,created_at,b,a\r\n4,t,\"multi\nline\",v\r\n".utf8)) == 1)
        #expect(try merger.add(Data("id,created_at\r\n".utf8)) == 0)
        let path = NSTemporaryDirectory() + "merger-\(UUID().uuidString).csv"
        defer { unlink(path) }
        let output = try OutputFile(.file(path))
        try merger.finish(into: output)
        try output.commit()
        #expect(String(decoding: try read(path), as: UTF8.self)
            == "id,created_at,a,b\r\n1,t,x,\r\n2,t,\"y,z\",\r\n3,t,w,\r\n4,t,v,\"multi\nline\"\r\n")
    }

    @Test("the JSON array scanner keeps elements whole and drops the whitespace between tokens only")
    func scanner() throws {
        var elements: [String] = []
        let count = try JSONArrayScanner.forEachElement(in: Data(#" [ {"a" : "x, ]}\" y" , "b":[1, 2]},"s",3 , null ] "#.utf8)) {
            elements.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(count == 4)
        #expect(elements == [#"{"a":"x, ]}\" y","b":[1,2]}"#, #""s""#, "3", "null"])
        #expect(try JSONArrayScanner.forEachElement(in: Data("[]".utf8)) { _ in } == 0)
        #expect(throws: JSONParseError.self) { try JSONArrayScanner.forEachElement(in: Data(#"{"a":1}"#.utf8)) { _ in } }
        #expect(throws: JSONParseError.self) { try JSONArrayScanner.forEachElement(in: Data(#"[1,2"#.utf8)) { _ in } }
        #expect(throws: JSONParseError.self) { try JSONArrayScanner.forEachElement(in: Data(#"[1,]"#.utf8)) { _ in } }
    }
}
