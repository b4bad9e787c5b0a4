import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import AssetSync
import PixieBrix
import Synchronization
import Testing
import TestSupport
import ZIPFoundation
import WireFormat

@Suite("assets export")
struct ExportTests {
    @Test("an export job of two databases in JSON, CSV and XLSX holds every record of both")
    func twoDatabasesEachFormat() async throws {
        try await withFixture { fixture in
            let admin = Admin(fixture: fixture)
            let second = try await fixture.client.createDatabase(name: "second").id
            try await admin.seed(fixture.database, (0..<30).map { index in
                record("a\(index)", ["kind": "first", "n": .number(String(index)), "note": "x, \"y\"\nz"],
                       created: day(index))
            })
            try await admin.seed(second, (0..<20).map { index in
                record("b\(index)", ["kind": "second", "extra": .bool(index % 2 == 0)], created: day(index))
            })
            let allIDs = Set((0..<30).map { "a\($0)" } + (0..<20).map { "b\($0)" })
            for format in ExportFormat.allCases {
                let path = fixture.scratch.path("export.\(format.rawValue)")
                let outcome = try await assets(["export", "--name", "Both databases", "--database", fixture.database,
                                                "--database", second, "--format", format.rawValue, "-o", path,
                                                "--timeout", "60"], fixture: fixture)
                #expect(outcome.status == 0, "\(format): \(outcome.message)")
                #expect(!FileManager.default.fileExists(atPath: path + ".part"))
                let rows = try Self.rows(of: path, format: format)
                #expect(rows.first.map { Array($0.prefix(2)) } == ["id", "created_at"], "\(format)")
                #expect(Set(rows.dropFirst().map { $0[0] }) == allIDs, "\(format)")
                #expect(rows.count == allIDs.count + 1, "\(format)")
                let note = try #require(rows.first?.firstIndex(of: "note"), "\(format) has no note column")
                let a0 = try #require(rows.first(where: { $0.first == "a0" }), "\(format) has no record a0")
                #expect(a0[note] == "x, \"y\"\nz", "\(format)")
            }

            // Date filters: the first 10 days of each database.
            let path = fixture.scratch.path("filtered.json")
            #expect(try await assets(["export", "--name", "filtered", "--database", fixture.database, "--database", second,
                                      "--start-date", "2024-01-01", "--end-date", "2024-01-10", "-o", path],
                                     fixture: fixture).status == 0)
            let filtered = try Self.rows(of: path, format: .json).dropFirst().map { $0[0] }
            #expect(Set(filtered) == Set((0..<10).map { "a\($0)" } + (0..<10).map { "b\($0)" }))
        }
    }

    /// A JSON value as the text a CSV cell holds for it.
    static func text(of value: JSONValue?) -> String {
        switch value {
        case nil, .null?: ""
        case .string(let text)?: text
        case .number(let digits)?: digits
        case .bool(let flag)?: flag ? "true" : "false"
        case let other?: other.jsonText
        }
    }

    /// The file as rows of text cells, header first, whatever the format.
    static func rows(of path: String, format: ExportFormat) throws -> [[String]] {
        switch format {
        case .csv:
            return try csvRows(read(path))
        case .json:
            let records = try #require(try JSONValue(parsing: read(path)))
            guard case .array(let items) = records else { return [] }
            var names: [String] = []
            for item in items {
                if case .object(let members)? = item["data"] {
                    for member in members where !names.contains(member.key) { names.append(member.key) }
                }
            }
            return [["id", "created_at"] + names] + items.map { item in
                [item["id"]?.stringValue ?? "", item["created_at"]?.stringValue ?? ""]
                    + names.map { text(of: item["data"]?[$0]) }
            }
        case .xlsx:
            return try XLSXSheet.rows(path)
        }
    }

    @Test("polling: FAILURE ends with the server's error_message, a job that never ends with a timeout")
    func pollingOutcomes() async throws {
        let states: [ExportJob.Status] = [.pending, .started, .failure]
        let counter = Counter()
        let failure = await #expect(throws: ExportJobError.self) {
            try await PixieBrixClient.poll(jobID: "j1", timeout: .seconds(30), initialDelay: .milliseconds(1), fetch: {
                let status = states[min(counter.next(), states.count - 1)]
                return ExportJob(id: "j1", status: status, errorMessage: status == .failure ? "Database too large." : nil)
            })
        }
        #expect(failure?.reason == .failed(message: "Database too large."))
        #expect(failure?.description.contains("Database too large.") == true)

        let timeout = await #expect(throws: ExportJobError.self) {
            try await PixieBrixClient.poll(jobID: "j2", timeout: .milliseconds(30), initialDelay: .milliseconds(5), fetch: {
                ExportJob(id: "j2", status: .pending)
            })
        }
        if case .timedOut(let status, _)? = timeout?.reason { #expect(status == .pending) } else { Issue.record("no timeout") }
    }

    @Test("the default file name comes from the export's name")
    func fileName() {
        #expect(ExportFetcher.fileName(exportName: "Q1 report/2024", format: .xlsx) == "Q1_report_2024.xlsx")
        #expect(ExportFetcher.fileName(exportName: "../..", format: .csv) == "_...csv")
        #expect(ExportFetcher.fileName(exportName: "", format: .json) == "export.json")
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

/// Reads the first sheet of an XLSX workbook: unzipped with ZIPFoundation, the sheet's XML parsed with
/// Foundation's XMLParser; inline and shared strings, numbers and booleans as text.
enum XLSXSheet {
    static func rows(_ path: String) throws -> [[String]] {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        func part(_ name: String) throws -> Data? {
            guard let entry = archive[name] else { return nil }
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            return data
        }
        #expect(try part("[Content_Types].xml") != nil)
        #expect(try part("xl/workbook.xml") != nil)
        let shared = try part("xl/sharedStrings.xml").map { SheetParser.parse($0, shared: []).flatMap { $0 } } ?? []
        let sheet = try #require(try part("xl/worksheets/sheet1.xml"))
        return SheetParser.parse(sheet, shared: shared)
    }
}

private final class SheetParser: NSObject, XMLParserDelegate {
    private let shared: [String]
    private var rows: [[String]] = []
    private var row: [String] = []
    private var cellType = ""
    private var cellColumn = 0
    private var text = ""
    private var collecting = false

    init(shared: [String]) { self.shared = shared }

    /// Rows of a sheet; for `sharedStrings.xml`, one row per string item.
    static func parse(_ data: Data, shared: [String]) -> [[String]] {
        let delegate = SheetParser(shared: shared)
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        _ = parser.parse()
        return delegate.rows
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch name {
        case "row": row = []
        case "si": text = ""
        case "c":
            cellType = attributes["t"] ?? "n"
            cellColumn = Self.columnIndex(attributes["r"] ?? "")
            text = ""
        case "t", "v": collecting = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if collecting { text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "t", "v": collecting = false
        case "si": rows.append([text])
        case "c":
            var value = text
            if cellType == "s", let index = Int(text), index < shared.count { value = shared[index] }
            if cellType == "b" { value = text == "1" ? "true" : "false" }
            while row.count < cellColumn { row.append("") }
            row.append(value)
        case "row": rows.append(row)
        default: break
        }
    }

    /// `A1` → 0, `AB7` → 27.
    static func columnIndex(_ reference: String) -> Int {
        var index = 0
        for scalar in reference.unicodeScalars where scalar.properties.isUppercase {
            index = index * 26 + Int(scalar.value - 64)
        }
        return max(0, index - 1)
    }
}
