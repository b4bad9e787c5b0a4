import Foundation
import PixieBrix

/// Runs an export job to the end: create, poll, download the file.
public enum ExportFetcher {
    public struct Outcome: Sendable {
        public var job: ExportJob
        public var path: String
        public var bytes: Int64
    }

    /// Creates the job, waits for it (see ``PixieBrixClient/waitForExportJob(_:timeout:onStatus:)``) and downloads
    /// its file into `path` (through `path.part`, renamed once complete and checked against storage's `ETag`).
    public static func run(client: PixieBrixClient, name: String, databases: [String], format: ExportFormat,
                           startDate: String?, endDate: String?, path: String, timeout: Duration,
                           onStatus: (ExportJob) -> Void = { _ in },
                           progress: (@Sendable (ByteProgress) -> Void)? = nil) async throws -> Outcome {
        let created = try await client.createExportJob(name: name, databases: databases, format: format,
                                                       startDate: startDate, endDate: endDate)
        onStatus(created)
        let job = try await client.waitForExportJob(created.id, timeout: timeout, onStatus: onStatus)
        guard let link = job.data else {
            throw PixieBrixError(kind: .malformedResponse, message: "export job \(job.id) succeeded without a data link")
        }
        let bytes = try await download(client: client, from: link, to: path, progress: progress)
        return Outcome(job: job, path: path, bytes: bytes)
    }

    /// Downloads a storage link into `path` via `path.part`. A `.part` left by an earlier run belongs to another
    /// job's file, so it is started over; retries within this run resume from the bytes already written.
    static func download(client: PixieBrixClient, from link: URL, to path: String,
                         progress: (@Sendable (ByteProgress) -> Void)?) async throws -> Int64 {
        let part = try ConfinedFolder.openPart(beside: path, resume: false)
        let download = try await client.download(from: link, into: part.descriptor, name: path + ".part", resume: false,
                                                 progress: progress)
        guard download.outcome != .nothingLeft else {
            throw PixieBrixError(kind: .unexpectedStatus, message: "downloading the export: HTTP \(download.status)",
                                 status: download.status)
        }
        try DownloadedFile.verify(part, etag: download.etag, what: "the export")
        try part.commit()
        return part.size
    }

    /// `<name>.<extension>` with the name reduced to letters, digits, `-`, `_` and `.` (others become `_`).
    public static func fileName(exportName: String, format: ExportFormat) -> String {
        var safe = String(exportName.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        }.prefix(100))
        while safe.hasPrefix(".") { safe.removeFirst() }
        return (safe.isEmpty ? "export" : safe) + "." + format.fileExtension
    }
}

/// Small file steps shared by the downloads of exports and archives.
enum DownloadedFile {
    /// Whether a part's MD5 equals storage's `ETag`; true when there is no `ETag` or it is not a plain MD5
    /// (multipart ETags hold a `-`).
    static func matches(_ part: PartFile, etag: String?) throws -> Bool {
        guard let etag else { return true }
        let expected = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")).lowercased()
        guard expected.count == 32, !expected.contains("-") else { return true }
        return try part.digest().md5 == expected
    }

    /// Checks a part against storage's `ETag`, removing it when it does not match.
    static func verify(_ part: PartFile, etag: String?, what: String) throws {
        guard try !matches(part, etag: etag) else { return }
        part.discard()
        throw PixieBrixError(kind: .malformedResponse,
                             message: "\(what): the downloaded bytes do not match storage's ETag; run again to fetch it anew")
    }
}
