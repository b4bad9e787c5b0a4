import Foundation

/// What an export job was asked for.
struct ExportRequest: Sendable {
    enum MediaType: String, Sendable, CaseIterable {
        case json = "application/json"
        case csv = "text/csv"
        case xlsx = "application/xlsx"

        var fileExtension: String {
            switch self {
            case .json: "json"
            case .csv: "csv"
            case .xlsx: "xlsx"
            }
        }

        var contentType: String {
            switch self {
            case .json: "application/json"
            case .csv: "text/csv"
            case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    var name: String
    var databases: [String]
    var mediaType: MediaType
    var filter: RecordFilter
}

/// Runs export jobs in the background and lets shutdown wait for them.
final class ExportRunner: @unchecked Sendable {
    // NSLock guards `running`.
    private let lock = NSLock()
    private var running: [String: Task<Void, Never>] = [:]

    func start(_ id: String, _ work: @escaping @Sendable () async -> Void) {
        lock.withLock {
            running[id] = Task {
                await work()
                self.lock.withLock { _ = self.running.removeValue(forKey: id) }
            }
        }
    }

    func waitForAll() async {
        let tasks = lock.withLock { Array(running.values) }
        for task in tasks { await task.value }
    }
}

enum Exporter {
    static let batchSize = 5_000

    /// Writes every selected record of every database, in order, to a file and stores it as the job's result.
    static func run(jobID: String, request: ExportRequest, state: ServerState) {
        let store = state.store
        let output: HashingFileWriter
        do {
            output = try HashingFileWriter(path: store.temporaryPath())
        } catch {
            try? store.finishExportJob(jobID, key: nil, errorMessage: "Could not write the export.")
            return
        }
        defer { output.discard() }
        do {
            switch request.mediaType {
            case .json:
                try output.append("[")
                var first = true
                try forEachRecord(request, store: store) { record in
                    try output.append((first ? "" : ",") + record.json.serialized)
                    first = false
                }
                try output.append("]")
            case .csv:
                let names = try fieldNames(request, store: store)
                try output.append(CSV.line(["id", "created_at"] + names))
                try forEachRecord(request, store: store) { record in
                    let data = record.dataValue
                    try output.append(
                        CSV.line([record.id, Timestamp.iso(record.createdAt)] + names.map { CSV.cell(data[$0]) }))
                }
            case .xlsx:
                let names = try fieldNames(request, store: store)
                let workbook = try XLSXWriter(sheetPath: store.temporaryPath(), limit: state.limits.maxXLSXBytes)
                try workbook.addRow((["id", "created_at"] + names).map { .string($0) })
                try forEachRecord(request, store: store) { record in
                    let data = record.dataValue
                    try workbook.addRow(
                        [.string(record.id), .string(Timestamp.iso(record.createdAt))] + names.map { data[$0] })
                }
                // ZIPFoundation writes the archive itself (it seeks back to finish each entry's header), so it
                // replaces the text output, and its MD5 is read back from the finished file.
                output.discard()
                try workbook.finish(archivePath: output.path)
            }
            let md5: String
            let size: Int64
            if request.mediaType == .xlsx {
                (md5, size) = try FileDigest.md5(path: output.path)
            } else {
                md5 = try output.finish()
                size = output.size
            }
            let key = "exports/\(jobID)/\(fileName(request))"
            try store.commitBlob(
                temporaryPath: output.path, key: key, size: size, md5: md5,
                contentType: request.mediaType.contentType, now: state.clock.now)
            try store.finishExportJob(jobID, key: key, errorMessage: nil)
        } catch let error as WorkbookSize.TooLarge {
            try? store.finishExportJob(
                jobID, key: nil,
                errorMessage: "The export's sheet is larger than \(error.limit) bytes, this server's limit for an .xlsx "
                    + "export; export as text/csv or application/json, or narrow the filters.")
        } catch {
            state.logger.error("export failed", metadata: ["job": "\(jobID)", "error": "\(error)"])
            try? store.finishExportJob(jobID, key: nil, errorMessage: "The export failed.")
        }
    }

    /// `<name>.<ext>` with the name reduced to characters safe in a URL path and a file name.
    static func fileName(_ request: ExportRequest) -> String {
        let safe = String(
            request.name.unicodeScalars.map { scalar -> Character in
                CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || "-_.".unicodeScalars.contains(scalar)
                    ? Character(scalar) : "_"
            }.prefix(100)
        ).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return (safe.isEmpty ? "export" : safe) + "." + request.mediaType.fileExtension
    }

    private static func forEachRecord(_ request: ExportRequest, store: Store, _ body: (RecordRow) throws -> Void) throws
    {
        for database in request.databases {
            var offset = 0
            while true {
                let rows = try store.records(
                    databaseID: database, filter: request.filter, limit: batchSize, offset: offset)
                for row in rows { try body(row) }
                if rows.count < batchSize { break }
                offset += rows.count
            }
        }
    }

    private static func fieldNames(_ request: ExportRequest, store: Store) throws -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        try forEachRecord(request, store: store) { record in
            for member in record.dataValue.members ?? [] where seen.insert(member.key).inserted {
                names.append(member.key)
            }
        }
        return names
    }
}
