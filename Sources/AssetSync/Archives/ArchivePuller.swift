import Foundation
import PixieBrix

/// What an archive pull is doing, for reporters.
public enum ArchivePullEvent: Sendable, Equatable {
    /// The listing: archives in range, how many are to download and how many are already complete here.
    case listed(total: Int, pending: Int, complete: Int)
    case downloaded(date: String, bytes: Int64)
    /// Storage refused a link (`403`): it expired; the archives are listed again for fresh ones.
    case expired(date: String)
    case relisted(pending: Int)
    case failed(date: String, reason: String)
}

/// How an archive pull ended.
public struct ArchivePullSummary: Sendable, Equatable {
    public var listed = 0
    public var downloaded = 0
    public var alreadyComplete = 0
    public var bytes: Int64 = 0
    /// How many times the archives were listed again for fresh links.
    public var relists = 0
    /// Dates that could not be fetched, with why.
    public var failed: [String: String] = [:]
}

/// Downloads a database's record archives, one JSON Lines file per date, into a folder; resumable.
///
/// Durable by construction: a date's file `DATE.jsonl` is written as `DATE.jsonl.part` (resumed with `Range` on
/// the next run), checked against storage's `ETag`, synced and only then renamed into place; so `DATE.jsonl`
/// present means complete, and it is skipped next time unless the server re-archived that date since (its
/// `updated_at` is newer than the file, whose modification time is set to the archive's `updated_at`).
/// Links live an hour: a `403` from storage makes the puller list again for fresh links, a bounded number of times.
public struct ArchivePuller: Sendable {
    public struct Options: Sendable {
        /// Only dates on or after this `YYYY-MM-DD`.
        public var since: String?
        /// Files in flight at once.
        public var transfers = 8
        /// How many times to list again for fresh links before giving up on the expired ones.
        public var maxRelists = 5
        public init(since: String? = nil, transfers: Int = 8) {
            self.since = since
            self.transfers = transfers
        }
    }

    public let client: PixieBrixClient
    public let organization: String
    public let database: String
    public let folder: String
    public let options: Options
    private let onEvent: @Sendable (ArchivePullEvent) async -> Void

    public init(client: PixieBrixClient, organization: String, database: String, folder: String,
                options: Options = Options(), onEvent: @escaping @Sendable (ArchivePullEvent) async -> Void = { _ in }) {
        self.client = client
        self.organization = organization
        self.database = database
        self.folder = folder
        self.options = options
        self.onEvent = onEvent
    }

    /// The file a date's archive ends up in.
    public static func fileName(date: String) -> String { "\(date).jsonl" }

    private func path(_ date: String) -> String { folder + "/" + Self.fileName(date: date) }

    private enum Outcome: Sendable {
        case done(Int64)
        case expired
        case failed(String)
    }

    /// Lists, skips complete dates, downloads the rest.
    ///
    /// - Throws: ``PixieBrixError`` when listing fails, `CancellationError`-like cancellation of a download; a file
    ///   that fails alone is reported in ``ArchivePullSummary/failed`` instead.
    public func run() async throws -> ArchivePullSummary {
        let root = try ConfinedFolder(path: folder, create: true)
        var summary = ArchivePullSummary()
        let archives = try await list()
        summary.listed = archives.count
        var pending: [RecordArchive] = []
        for archive in archives {
            if let status = root.status(of: Self.fileName(date: archive.date)),
               Double(status.mtimeNs) / 1e9 - archive.updatedAt.timeIntervalSince1970 > -1 {
                summary.alreadyComplete += 1
            } else {
                pending.append(archive)
            }
        }
        await onEvent(.listed(total: archives.count, pending: pending.count, complete: summary.alreadyComplete))
        while !pending.isEmpty {
            var expired: [String] = []
            for (archive, outcome) in try await download(pending, into: root) {
                switch outcome {
                case .done(let bytes):
                    summary.downloaded += 1
                    summary.bytes += bytes
                case .expired:
                    expired.append(archive.date)
                case .failed(let reason):
                    summary.failed[archive.date] = reason
                }
            }
            guard !expired.isEmpty else { break }
            guard summary.relists < options.maxRelists else {
                for date in expired {
                    summary.failed[date] = "storage refused the link (403) even after listing again \(summary.relists) times"
                    await onEvent(.failed(date: date, reason: summary.failed[date]!))
                }
                break
            }
            summary.relists += 1
            let fresh = Dictionary(try await list().map { ($0.date, $0) }, uniquingKeysWith: { $1 })
            pending = []
            for date in expired.sorted() {
                if let archive = fresh[date] {
                    pending.append(archive)
                } else {
                    summary.failed[date] = "no longer listed"
                    await onEvent(.failed(date: date, reason: "no longer listed"))
                }
            }
            await onEvent(.relisted(pending: pending.count))
        }
        return summary
    }

    /// The archives in range, oldest first; a date that is not `YYYY-MM-DD` is refused (it names a file).
    private func list() async throws -> [RecordArchive] {
        var archives: [RecordArchive] = []
        try await client.recordArchives(organization: organization, database: database) { page in
            for archive in page {
                guard RecordFilter.isDate(archive.date) else {
                    throw PixieBrixError(kind: .malformedResponse,
                                         message: "listing record archives: \"\(archive.date)\" is not a date")
                }
                if let since = options.since, archive.date < since { continue }
                archives.append(archive)
            }
        }
        return archives
    }

    /// Downloads up to `transfers` files at once; cancellation stops them all (their `.part` files stay).
    private func download(_ archives: [RecordArchive], into root: ConfinedFolder) async throws -> [(RecordArchive, Outcome)] {
        try await withThrowingTaskGroup(of: (RecordArchive, Outcome).self) { group in
            var results: [(RecordArchive, Outcome)] = []
            var iterator = archives.makeIterator()
            func startNext() {
                guard let archive = iterator.next() else { return }
                group.addTask { (archive, try await self.fetch(archive, into: root)) }
            }
            for _ in 0..<max(1, options.transfers) { startNext() }
            while let result = try await group.next() {
                results.append(result)
                startNext()
            }
            return results
        }
    }

    private func fetch(_ archive: RecordArchive, into root: ConfinedFolder) async throws -> Outcome {
        let name = path(archive.date) + ".part"
        do {
            let part = try root.openPart(for: Self.fileName(date: archive.date), resume: true)
            var download = try await client.download(from: archive.file, into: part.descriptor, name: name, resume: true)
            var complete = try DownloadedFile.matches(part, etag: download.etag)
            if download.outcome == .nothingLeft {
                // The part holds at least as many bytes as the object: complete if exactly as many.
                complete = complete && download.size == part.size
            }
            if !complete && download.outcome != .whole {
                // What the part was resumed from belongs to another version of the file: start over.
                try part.truncate()
                download = try await client.download(from: archive.file, into: part.descriptor, name: name, resume: false)
                complete = false
            }
            if !complete {
                try DownloadedFile.verify(part, etag: download.etag, what: "the archive of \(archive.date)")
            }
            try part.commit(modified: archive.updatedAt)
            let bytes = part.size
            await onEvent(.downloaded(date: archive.date, bytes: bytes))
            return .done(bytes)
        } catch let error as PixieBrixError where error.kind == .forbidden {
            await onEvent(.expired(date: archive.date))
            return .expired
        } catch let error as PixieBrixError where error.kind == .cancelled {
            throw error
        } catch {
            if Task.isCancelled { throw error }
            await onEvent(.failed(date: archive.date, reason: "\(error)"))
            return .failed("\(error)")
        }
    }
}
