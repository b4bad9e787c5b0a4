import Foundation
import PixieBrix
import WireFormat

/// Joins the CSV pages of the records endpoint, each with its own header row, into one document with one header.
///
/// A page whose header equals the merged header is copied through byte for byte. A page with other columns (the
/// server names the fields of that page only, in the order they first appear) is converted: its rows are
/// re-quoted into the merged column order, and columns not seen before are appended. Because a later page may
/// add columns, the header can only be written once the last page is in: rows wait in an anonymous temporary
/// file (memory stays at one page), and rows written before a column was added get empty cells for it.
final class CSVPageMerger {
    private struct Segment {
        var start: Int64
        var length: Int64
        var width: Int
    }

    private(set) var header: [String] = []
    /// Column index by name and occurrence (a data field may be called `id` too).
    private var positions: [String: Int] = [:]
    private let spool: Spool
    private var segments: [Segment] = []
    private(set) var rows = 0

    init(spoolDirectory: String = NSTemporaryDirectory()) throws {
        spool = try Spool(directory: spoolDirectory)
    }

    /// Adds one page; returns how many rows it held.
    @discardableResult
    func add(_ page: Data) throws -> Int {
        var reader = CSVReader(page)
        guard let pageHeader = try reader.nextRow() else { return 0 }
        if header.isEmpty {
            var seen: [String: Int] = [:]
            for name in pageHeader { _ = column(for: name, occurrence: &seen) }
        }
        let start = spool.size
        var count = 0
        if pageHeader == header {
            // Re-encoded rather than copied, so that a server's formula cells are defused (CSV.formulaSafe).
            while let row = try reader.nextRow() {
                try spool.append(CSV.line(row))
                count += 1
            }
        } else {
            var seen: [String: Int] = [:]
            let map = pageHeader.map { column(for: $0, occurrence: &seen) }
            while let row = try reader.nextRow() {
                var cells = [String](repeating: "", count: header.count)
                for (index, value) in row.enumerated() where index < map.count { cells[map[index]] = value }
                try spool.append(CSV.line(cells))
                count += 1
            }
        }
        if spool.size > start { segments.append(Segment(start: start, length: spool.size - start, width: header.count)) }
        rows += count
        return count
    }

    /// The merged column of the `occurrence`-th column called `name` in a page, added when new.
    private func column(for name: String, occurrence seen: inout [String: Int]) -> Int {
        let nth = seen[name, default: 0]
        seen[name] = nth + 1
        let key = "\(nth)\u{0}\(name)"
        if let index = positions[key] { return index }
        header.append(name)
        positions[key] = header.count - 1
        return header.count - 1
    }

    /// Writes the header and every row, padded to the full width.
    func finish(into output: OutputFile) throws {
        guard !header.isEmpty else { return }
        try spool.flush()
        try output.write(CSV.line(header))
        for segment in segments {
            if segment.width == header.count {
                try spool.copy(from: segment.start, length: segment.length, to: output)
                continue
            }
            var reader = CSVReader(try spool.read(from: segment.start, length: Int(segment.length)))
            let padding = [String](repeating: "", count: header.count - segment.width)
            while let row = try reader.nextRow() { try output.write(CSV.line(row + padding)) }
        }
    }
}
