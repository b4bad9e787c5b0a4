import Foundation
@testable import AssetSync
import PixieBrix
import Testing
import TestSupport

/// CSV formula safety (OWASP CSV injection): what `assets records --format csv` writes cannot run in a
/// spreadsheet, whatever the server sent (issue 10).
@Suite("CSV formula cells")
struct FormulaSafetyTests {
    @Test("the merger defuses formula cells of a page copied from a server that does not")
    func mergerDefusesServerCells() throws {
        let merger = try CSVPageMerger()
        let page = "id,created_at,=cmd\r\na,t,\"=HYPERLINK(\"\"http://evil\"\")\"\r\nb,t,-5\r\nc,t,@SUM(A1)\r\n"
        #expect(try merger.add(Data(page.utf8)) == 3)
        #expect(try merger.add(Data("id,created_at,=cmd\r\nd,t,\"\tx\"\r\n".utf8)) == 1)
        let path = NSTemporaryDirectory() + "formula-\(UUID().uuidString).csv"
        defer { unlink(path) }
        let output = try OutputFile(.file(path))
        try merger.finish(into: output)
        try output.commit()
        #expect(String(decoding: try read(path), as: UTF8.self)
            == "id,created_at,'=cmd\r\na,t,\"'=HYPERLINK(\"\"http://evil\"\")\"\r\nb,t,-5\r\nc,t,'@SUM(A1)\r\nd,t,'\tx\r\n")
    }

    @Test("assets records --format csv writes formula cells with a leading quote, numbers as they are")
    func recordsCommand() async throws {
        try await withFixture { fixture in
            try await Admin(fixture: fixture).seed(fixture.database, [
                record("r1", ["f": "=1+1", "p": "+cmd|' /C calc'!A0", "m": "-2+3", "a": "@SUM(A1:A2)", "n": .number("-5")],
                       created: day(0)),
            ])
            let csv = fixture.scratch.path("formula.csv")
            #expect(try await assets(["records", "--database", fixture.database, "--format", "csv", "-o", csv],
                                     fixture: fixture).status == 0)
            let rows = try csvRows(read(csv))
            #expect(rows.first == ["id", "created_at", "f", "p", "m", "a", "n"])
            #expect(Array(rows.last?.dropFirst(2) ?? []) == ["'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1:A2)", "-5"])
        }
    }
}
