import Foundation
import PixieBrix
import Testing
import TestSupport
import WireFormat

@Suite("assets records: filters and pages")
struct RecordsFilterTests {
    /// r1...r5 seeded with chosen creation times; r6 written through the API today.
    static let seeded: [JSONValue] = [
        record("r1", ["user email": "david@pixiebrix.com", "name": "David", "team": "a"], created: "2024-01-01T10:00:00Z"),
        record("r2", ["user email": "ann@pixiebrix.com", "name": "Ann", "team": .null],
               created: "2024-01-02T23:59:59.999999Z"),
        record("r3", ["user email": "david@pixiebrix.com", "name": "Dave", "team": "b"], created: "2024-01-03T00:00:00Z"),
        record("r4", ["name": "No Email", "a&b/c": "x y"], created: "2024-01-04T12:00:00Z"),
        record("r5", ["user email": "david@pixiebrix.com", "a&b/c": "x y", "team": "a"], created: "2024-01-05T00:00:00Z"),
    ]

    /// Filters and the ids they select, worked out by hand from `seeded` and r6.
    static let cases: [(arguments: [String], expected: [String])] = [
        ([], ["r1", "r2", "r3", "r4", "r5", "r6"]),
        (["--start-date", "2024-01-02"], ["r2", "r3", "r4", "r5", "r6"]),
        (["--end-date", "2024-01-02"], ["r1", "r2"]),
        (["--start-date", "2024-01-02", "--end-date", "2024-01-04"], ["r2", "r3", "r4"]),
        (["--start-date", "2024-01-03", "--end-date", "2024-01-03"], ["r3"]),
        (["--where", "user email=david@pixiebrix.com"], ["r1", "r3", "r5"]),
        (["--where", "a&b/c=x y"], ["r4", "r5"]),
        (["--where", "name=Nobody"], []),
        (["--null", "team"], ["r2", "r4"]),
        (["--not-null", "team"], ["r1", "r3", "r5", "r6"]),
        (["--null", "user email"], ["r4"]),
        (["--where", "user email=david@pixiebrix.com", "--not-null", "team", "--start-date", "2024-01-02"], ["r3", "r5"]),
        (["--where", "team=a", "--where", "user email=david@pixiebrix.com"], ["r1", "r5"]),
        (["--null", "team", "--not-null", "a&b/c", "--end-date", "2024-12-31"], ["r4"]),
        (["--where", "team=c", "--start-date", "2024-01-01"], ["r6"]),
    ]

    @Test("each filter and combinations select exactly the hand-computed records, in every format")
    func filters() async throws {
        try await withFixture { fixture in
            try await Admin(fixture: fixture).seed(fixture.database, Self.seeded)
            try await fixture.client.putRecord(database: fixture.database, id: "r6",
                                               data: .object(["user email": .string("eve@pixiebrix.com"),
                                                              "team": .string("c")]))
            for (index, testCase) in Self.cases.enumerated() {
                let base = ["records", "--database", fixture.database] + testCase.arguments
                let jsonl = fixture.scratch.path("case\(index).jsonl")
                #expect(try await assets(base + ["--format", "jsonl", "-o", jsonl], fixture: fixture).status == 0)
                #expect(try jsonLinesIDs(jsonl) == testCase.expected, "\(testCase.arguments)")

                let json = fixture.scratch.path("case\(index).json")
                #expect(try await assets(base + ["-o", json, "--page-size", "2"], fixture: fixture).status == 0)
                let array = try JSONSerialization.jsonObject(with: read(json)) as? [[String: Any]]
                #expect(array?.map { $0["id"] as? String ?? "?" } == testCase.expected, "\(testCase.arguments)")

                let csv = fixture.scratch.path("case\(index).csv")
                #expect(try await assets(base + ["--format", "csv", "-o", csv], fixture: fixture).status == 0)
                let rows = try csvRows(read(csv))
                #expect(rows.first.map { Array($0.prefix(2)) } == ["id", "created_at"])
                #expect(rows.dropFirst().map { $0[0] } == testCase.expected, "\(testCase.arguments)")
            }
        }
    }

    @Test("25,000 records: three pages of 10,000 joined in order, data field order kept")
    func manyPages() async throws {
        try await withFixture { fixture in
            let count = 25_000
            let records: [JSONValue] = (0..<count).map { index -> JSONValue in
                let time = String(format: "%02d:%02d:%02d", (index / 3600) % 24, (index / 60) % 60, index % 60)
                let data: KeyValuePairs<String, JSONValue> = ["n": .number(String(index)), "label": .string("item \(index)")]
                return record(String(format: "rec-%05d", index), data, created: day(index / 1000, time))
            }
            try await Admin(fixture: fixture).seed(fixture.database, records)
            // Creation times grow with the index, so the API's order (created_at, id) is the index order.
            let expected = records.map { $0["id"]!.stringValue! }
            var pages = 0
            try await fixture.client.recordPages(database: fixture.database) { _ in pages += 1 }
            #expect(pages == 3)

            let json = fixture.scratch.path("all.json")
            #expect(try await assets(["records", "--database", fixture.database, "-o", json], fixture: fixture).status == 0)
            let text = String(decoding: try read(json), as: UTF8.self)
            let array = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
            #expect(array?.count == count)
            #expect(array?.map { $0["id"] as? String ?? "" } == expected)
            // The data members keep the server's order (n before label), which a dictionary round trip would lose.
            #expect(text.contains(#""data":{"n":0,"label":"item 0"}"#))
            #expect(!FileManager.default.fileExists(atPath: json + ".part"))

            let jsonl = fixture.scratch.path("all.jsonl")
            #expect(try await assets(["records", "--database", fixture.database, "--format", "jsonl", "-o", jsonl],
                                     fixture: fixture).status == 0)
            #expect(try jsonLinesIDs(jsonl) == expected)

            let csv = fixture.scratch.path("all.csv")
            #expect(try await assets(["records", "--database", fixture.database, "--format", "csv", "-o", csv],
                                     fixture: fixture).status == 0)
            let rows = try csvRows(read(csv))
            #expect(rows.first == ["id", "created_at", "n", "label"])
            #expect(rows.dropFirst().map { $0[0] } == expected)
            #expect(rows.filter { $0 == ["id", "created_at", "n", "label"] }.count == 1)
        }
    }
}
