import Foundation
import PixieBrix
import WireFormat

/// The formats `assets records` writes.
public enum RecordOutputFormat: String, Sendable, CaseIterable {
    /// One JSON array, one record a line inside it.
    case json
    /// JSON Lines: one record a line.
    case jsonl
    /// RFC 4180 CSV with one header row `id,created_at,<data fields...>`.
    case csv
}

/// How far a records download is.
public struct RecordsProgress: Sendable, Equatable {
    public var records = 0
    public var pages = 0
    public var bytes: Int64 = 0
}

/// Fetches a database's records page by page into an ``OutputFile``.
///
/// JSON and JSON Lines are written as each page arrives (records pass through unchanged, their fields in the
/// server's order); CSV pages are merged under one header (see ``CSVPageMerger``) and written at the end.
public enum RecordsDownload {
    /// - Returns: how many records were written.
    public static func run(client: PixieBrixClient, database: String, filter: RecordFilter, format: RecordOutputFormat,
                           to output: OutputFile, pageSize: Int = PixieBrixClient.maxRecordsPageSize,
                           spoolDirectory: String = NSTemporaryDirectory(),
                           progress: (RecordsProgress) -> Void = { _ in }) async throws -> Int {
        var state = RecordsProgress()
        switch format {
        case .json, .jsonl:
            let lines = format == .jsonl
            if !lines { try output.write("[") }
            try await client.recordPages(database: database, filter: filter, as: .json, pageSize: pageSize) { page in
                var written = state.records
                try JSONArrayScanner.forEachElement(in: page.body) { element in
                    if !lines { try output.write(written == 0 ? "\n" : ",\n") }
                    try output.write(element)
                    if lines { try output.write("\n") }
                    written += 1
                }
                state.records = written
                state.pages += 1
                state.bytes += Int64(page.body.count)
                try output.flush()
                progress(state)
            }
            if !lines { try output.write(state.records == 0 ? "]\n" : "\n]\n") }
        case .csv:
            let merger = try CSVPageMerger(spoolDirectory: spoolDirectory)
            try await client.recordPages(database: database, filter: filter, as: .csv, pageSize: pageSize) { page in
                state.records += try merger.add(page.body)
                state.pages += 1
                state.bytes += Int64(page.body.count)
                progress(state)
            }
            try merger.finish(into: output)
        }
        try output.flush()
        return state.records
    }
}
