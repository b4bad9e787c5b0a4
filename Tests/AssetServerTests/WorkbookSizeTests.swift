import Foundation
import Testing
import ZIPFoundation

@testable import AssetServer

/// The XLSX export's zip: written by ZIPFoundation, zip64 past 4 GiB of sheet data, refused only past the
/// operator's `limits.maxXLSXBytes`.
@Suite("XLSX workbook size")
struct WorkbookSizeTests {
    static let gibibyte: Int64 = 1_073_741_824

    @Test("sheet data up to 4 GiB - 2 is a plain zip; from 4 GiB - 1 (0xFFFFFFFF) on it is zip64")
    func zip64Threshold() {
        #expect(WorkbookSize.decide(sheetBytes: 0, limit: nil) == .zip)
        #expect(WorkbookSize.decide(sheetBytes: 4_294_967_294, limit: nil) == .zip)
        #expect(WorkbookSize.decide(sheetBytes: 4_294_967_295, limit: nil) == .zip64)
        #expect(WorkbookSize.decide(sheetBytes: 5 * Self.gibibyte, limit: nil) == .zip64)
        #expect(WorkbookSize.decide(sheetBytes: Int64.max, limit: nil) == .zip64)
    }

    @Test("past 4 GiB an export is written as zip64 unless the operator's limit is lower, then refused")
    func operatorLimit() {
        #expect(WorkbookSize.decide(sheetBytes: 5 * Self.gibibyte, limit: 8 << 30) == .zip64)
        #expect(WorkbookSize.decide(sheetBytes: 5 * Self.gibibyte, limit: 4 << 30) == .refused(limit: 4 << 30))
        #expect(WorkbookSize.decide(sheetBytes: 4096, limit: 4096) == .zip)
        #expect(WorkbookSize.decide(sheetBytes: 4097, limit: 4096) == .refused(limit: 4096))
        #expect(WorkbookSize.decide(sheetBytes: Int64.max, limit: UInt64.max) == .zip64)
    }

    @Test("the server sets no XLSX limit of its own any more")
    func noDefaultLimit() {
        #expect(AssetServerConfiguration.Limits().maxXLSXBytes == nil)
    }

    @Test("a small workbook is a deflated zip that ZIPFoundation opens, with every part and the rows")
    func smallWorkbook() throws {
        let directory = temporaryDirectory()
        let writer = try XLSXWriter(sheetPath: directory + "/sheet.xml", limit: nil)
        try writer.addRow([.string("id"), .string("n"), .string("ok")])
        for index in 0..<500 { try writer.addRow([.string("r\(index)"), .number("\(index)"), .bool(index % 2 == 0)]) }
        try writer.finish(archivePath: directory + "/book.xlsx")
        #expect(!FileManager.default.fileExists(atPath: directory + "/sheet.xml"))

        let archive = try Archive(url: URL(fileURLWithPath: directory + "/book.xlsx"), accessMode: .read)
        #expect(
            Set(archive.map(\.path)) == [
                "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", "xl/worksheets/sheet1.xml",
            ])
        let sheetEntry = try #require(archive["xl/worksheets/sheet1.xml"])
        #expect(sheetEntry.isCompressed)
        #expect(sheetEntry.compressedSize * 4 < sheetEntry.uncompressedSize)
        var sheet = Data()
        _ = try archive.extract(sheetEntry) { sheet.append($0) }
        let xml = String(decoding: sheet, as: UTF8.self)
        #expect(xml.hasSuffix("</sheetData></worksheet>"))
        #expect(xml.contains(#"<row r="501"><c r="A501" t="inlineStr"><is><t xml:space="preserve">r499</t></is></c>"#))
        #expect(xml.contains(#"<c r="B501"><v>499</v></c><c r="C501" t="b"><v>0</v></c></row>"#))
    }

    @Test("past the limit the writer throws before any archive exists, and leaves no sheet file behind")
    func refusedBeforeWriting() throws {
        let directory = temporaryDirectory()
        var refused: WorkbookSize.TooLarge?
        do {
            // The writer ends with this block, as an export's does when its job fails.
            let writer = try XLSXWriter(sheetPath: directory + "/sheet.xml", limit: 4096)
            for index in 0..<200 { try writer.addRow([.string("r\(index)"), .string(String(repeating: "x", count: 50))]) }
            try writer.finish(archivePath: directory + "/book.xlsx")
        } catch let error as WorkbookSize.TooLarge {
            refused = error
        }
        #expect(refused?.limit == 4096)
        #expect(!FileManager.default.fileExists(atPath: directory + "/book.xlsx"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/sheet.xml"))
    }
}
