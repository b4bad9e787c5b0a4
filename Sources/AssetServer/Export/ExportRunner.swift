import Foundation
import WireFormat

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

/// The request as kept on the job row, so that any replica can run (or take over) the job.
extension ExportRequest {
    var stored: String {
        JSONValue.object([
            "name": .string(name),
            "databases": .array(databases.map { .string($0) }),
            "media_type": .string(mediaType.rawValue),
            "created_from": filter.createdFrom.map { .number(String($0)) } ?? .null,
            "created_through": filter.createdThrough.map { .number(String($0)) } ?? .null,
        ]).jsonText
    }

    init(stored text: String) throws {
        let value = try JSONValue(parsing: text)
        func micros(_ key: String) throws -> Micros? {
            switch value[key] {
            case nil, .null?: return nil
            case .number(let lexeme)?:
                guard let number = Int64(lexeme) else { throw StoredRequestError(field: key) }
                return number
            default: throw StoredRequestError(field: key)
            }
        }
        guard let name = value["name"]?.stringValue else { throw StoredRequestError(field: "name") }
        guard case .array(let items)? = value["databases"] else { throw StoredRequestError(field: "databases") }
        guard let type = value["media_type"]?.stringValue, let mediaType = MediaType(rawValue: type) else {
            throw StoredRequestError(field: "media_type")
        }
        var filter = RecordFilter()
        filter.createdFrom = try micros("created_from")
        filter.createdThrough = try micros("created_through")
        self.init(
            name: name, databases: try items.map { item in
                guard let id = item.stringValue else { throw StoredRequestError(field: "databases") }
                return id
            }, mediaType: mediaType, filter: filter)
    }

    struct StoredRequestError: Error, CustomStringConvertible {
        var field: String
        var description: String { "export job row: unreadable request field \(field)" }
    }
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

    /// Writes every selected record of every database, in order, to a file and stores it as the job's result,
    /// renewing the job's lease meanwhile so that no other replica takes it over.
    static func run(_ claimed: ClaimedExport, state: ServerState) async {
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: state.leases.renewEvery)
                if Task.isCancelled { break }
                _ = try? await state.store.renewExportLease(
                    claimed.id, runner: state.leases.runner, leaseUntil: state.leases.until())
            }
        }
        defer { heartbeat.cancel() }
        state.logger.info("export started", metadata: ["job": "\(claimed.id)", "runner": "\(state.leases.runner)"])
        await run(jobID: claimed.id, storedRequest: claimed.request, state: state)
    }

    private static func run(jobID: String, storedRequest: String, state: ServerState) async {
        let store = state.store
        let runner = state.leases.runner
        func finish(key: String?, errorMessage: String?) async {
            do {
                try await store.finishExportJob(jobID, runner: runner, key: key, errorMessage: errorMessage)
            } catch {
                state.logger.error("export not recorded", metadata: ["job": "\(jobID)", "error": "\(error)"])
            }
        }
        let request: ExportRequest
        do {
            request = try ExportRequest(stored: storedRequest)
        } catch {
            await finish(key: nil, errorMessage: "The export request could not be read.")
            return
        }
        let output: HashingFileWriter
        do {
            output = try HashingFileWriter(path: store.temporaryPath())
        } catch {
            await finish(key: nil, errorMessage: "Could not write the export.")
            return
        }
        defer { output.discard() }
        do {
            switch request.mediaType {
            case .json:
                try output.append("[")
                var first = true
                try await forEachRecord(request, state: state) { record in
                    try output.append((first ? "" : ",") + record.json.jsonText)
                    first = false
                }
                try output.append("]")
            case .csv:
                let names = try await fieldNames(request, state: state)
                try output.append(CSV.line(["id", "created_at"] + names))
                try await forEachRecord(request, state: state) { record in
                    let data = record.dataValue
                    try output.append(
                        CSV.line([record.id, Timestamp.iso(record.createdAt)] + names.map { RecordsCSV.cell(data[$0]) }))
                }
            case .xlsx:
                let names = try await fieldNames(request, state: state)
                let workbook = try XLSXWriter(sheetPath: store.temporaryPath(), limit: state.limits.maxXLSXBytes)
                try workbook.addRow((["id", "created_at"] + names).map { .string($0) })
                try await forEachRecord(request, state: state) { record in
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
            try await state.blobs.store(
                file: output.path, key: key, size: size, md5: md5, contentType: request.mediaType.contentType,
                now: state.clock.now)
            await finish(key: key, errorMessage: nil)
        } catch let error as WorkbookSize.TooLarge {
            await finish(
                key: nil,
                errorMessage: "The export's sheet is larger than \(error.limit) bytes, this server's limit for an .xlsx "
                    + "export; export as text/csv or application/json, or narrow the filters.")
        } catch {
            state.logger.error("export failed", metadata: ["job": "\(jobID)", "error": "\(error)"])
            await finish(key: nil, errorMessage: "The export failed.")
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

    private static func forEachRecord(
        _ request: ExportRequest, state: ServerState, _ body: (RecordRow) throws -> Void
    ) async throws {
        let store = state.store
        for database in request.databases {
            var offset = 0
            while true {
                let rows = try await store.records(
                    databaseID: database, filter: request.filter, limit: batchSize, offset: offset)
                for row in rows { try body(row) }
                if state.exportBatchPause > .zero { try await Task.sleep(for: state.exportBatchPause) }
                if rows.count < batchSize { break }
                offset += rows.count
            }
        }
    }

    private static func fieldNames(_ request: ExportRequest, state: ServerState) async throws -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        try await forEachRecord(request, state: state) { record in
            for member in record.dataValue.members ?? [] where seen.insert(member.key).inserted {
                names.append(member.key)
            }
        }
        return names
    }
}
