import Foundation
import WireFormat
import ZIPFoundation

/// A one-sheet workbook: the sheet XML is streamed to a temporary file, then zipped with the fixed parts by
/// ZIPFoundation (deflated; zip64 once the sheet passes 4 GiB).
final class XLSXWriter {
    private let sheet: HashingFileWriter
    private let limit: UInt64?
    private var rowNumber = 0

    /// - Parameter limit: the most sheet XML to write (`limits.maxXLSXBytes`); nil for no limit.
    init(sheetPath: String, limit: UInt64?) throws {
        sheet = try HashingFileWriter(path: sheetPath)
        self.limit = limit
        try sheet.append(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                + "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>")
    }

    /// A row of cells: strings as inline strings, numbers as numbers, booleans as booleans, nothing for null.
    /// - Throws: ``WorkbookSize/TooLarge`` once the sheet has passed the limit, so a refused export stops early.
    func addRow(_ cells: [JSONValue?]) throws {
        rowNumber += 1
        var xml = "<row r=\"\(rowNumber)\">"
        for (index, cell) in cells.enumerated() {
            let reference = Self.column(index) + String(rowNumber)
            switch cell {
            case nil, .null?: continue
            case .number(let lexeme)?: xml += "<c r=\"\(reference)\"><v>\(lexeme)</v></c>"
            case .bool(let flag)?: xml += "<c r=\"\(reference)\" t=\"b\"><v>\(flag ? 1 : 0)</v></c>"
            case let other?:
                let text = other.stringValue ?? other.jsonText
                xml +=
                    "<c r=\"\(reference)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\(XML.escape(text))</t></is></c>"
            }
        }
        try sheet.append(xml + "</row>")
        try checkSize()
    }

    /// Writes the workbook to a new file at `archivePath` and deletes the sheet's temporary file.
    /// - Throws: ``WorkbookSize/TooLarge`` past the limit, before the archive is created.
    func finish(archivePath: String) throws {
        try sheet.append("</sheetData></worksheet>")
        _ = try sheet.finish()
        defer { sheet.discard() }
        try checkSize()
        let archive = try Archive(url: URL(fileURLWithPath: archivePath), accessMode: .create)
        for (name, text) in Self.fixedParts {
            let data = Data(text.utf8)
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
        try archive.addEntry(
            with: "xl/worksheets/sheet1.xml", fileURL: URL(fileURLWithPath: sheet.path), compressionMethod: .deflate,
            bufferSize: 256 * 1024)
    }

    /// A sheet left by an export that failed before `finish` is deleted with its writer.
    deinit { sheet.discard() }

    private func checkSize() throws {
        if case .refused(let limit) = WorkbookSize.decide(sheetBytes: sheet.size, limit: limit) {
            throw WorkbookSize.TooLarge(limit: limit)
        }
    }

    private static var fixedParts: [(String, String)] {
        [
            ("[Content_Types].xml", contentTypes), ("_rels/.rels", rootRelationships), ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", workbookRelationships), ("xl/styles.xml", styles),
        ]
    }

    /// `A`, ..., `Z`, `AA`, ... for a zero-based column index.
    static func column(_ index: Int) -> String {
        var index = index + 1
        var name = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            index = (index - 1) / 26
        }
        return name
    }

    private static let header = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"

    private static let contentTypes =
        header + """
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
            </Types>
            """

    private static let rootRelationships =
        header + """
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            </Relationships>
            """

    private static let workbook =
        header + """
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheets><sheet name="Records" sheetId="1" r:id="rId1"/></sheets></workbook>
            """

    private static let workbookRelationships =
        header + """
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
            <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
            </Relationships>
            """

    private static let styles =
        header + """
            <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
            <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
            <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
            <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
            <cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>\
            <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
            </styleSheet>
            """
}
