import Foundation
import Logging
import PixieBrix
import Transfer

/// Runs queued pull jobs: `queued → downloading → verifying → done`, `transfers` at a time.
struct PullRunner {
    let folder: String
    let database: String
    let client: PixieBrixClient
    let store: StateStore
    let transfers: Int
    let reporter: any SyncReporter
    let logger: Logger

    func run() async throws -> SyncSummary {
        let store = self.store
        let feeder = JobFeeder<PullJob>(load: { try store.activePullJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
        let root = try ConfinedFolder(path: folder, create: true)
        return try await drain(feeder, workers: transfers) { try await process($0, in: root) }
    }

    private func process(_ start: PullJob, in root: ConfinedFolder) async throws -> JobResult {
        var job = start
        reporter.report(.started(path: job.path, bytes: job.size ?? 0))
        do {
            // A run killed between the rename and its commit left the file in place: check it there.
            let renamedBeforeACrash = job.state == .verifying && root.status(of: job.path + ".part") == nil
                && root.status(of: job.path) != nil
            let part = renamedBeforeACrash ? nil : try openPart(for: job.path, in: root)
            var downloaded: (size: Int64, etag: String?)?
            if let part, job.state == .queued || job.state == .downloading {
                try store.commit(&job, state: .downloading)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
                downloaded = try await download(&job, into: part)
                job.size = downloaded?.size
                job.etag = downloaded?.etag
                job.bytes = downloaded?.size ?? 0
                try store.commit(&job, state: .verifying)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
            }
            let entry = try part.map { try verify(job, part: $0) } ?? verifyInPlace(job, in: root)
            if let part { try commit(part) }
            let status = root.status(of: job.path)
            var final = entry
            final.mtimeNs = status?.mtimeNs ?? entry.mtimeNs
            try store.finish(&job, entry: final)
            reporter.report(.finished(path: job.path, bytes: entry.size))
            return .done(bytes: entry.size)
        } catch let error as JobFailure {
            try store.fail(&job, reason: error.reason)
            reporter.report(.failed(path: job.path, reason: error.reason))
            return .failed
        } catch let error as PixieBrixError {
            switch error.kind {
            case .unauthorized, .forbidden, .unreachable, .insecureURL, .foreignHost, .cancelled:
                throw SyncError(kind: .api(error.kind), message: error.description)
            default:
                if error.isTransient {
                    job.error = error.description
                    try store.commit(&job, state: job.state)
                    reporter.report(.failed(path: job.path, reason: "\(error) (will resume on the next run)"))
                } else {
                    try store.fail(&job, reason: error.description)
                    reporter.report(.failed(path: job.path, reason: error.description))
                }
                return .failed
            }
        }
    }

    /// Downloads into `part`, resuming from its bytes; asks for a fresh link once if storage
    /// refuses an expired one. Returns the object's full length and `ETag`.
    private func download(_ job: inout PullJob, into part: PartFile) async throws -> (size: Int64, etag: String?) {
        let path = job.path
        let reporter = self.reporter
        for attempt in 1...2 {
            let location = try await client.downloadLocation(database: database, id: job.assetId)
            let response: HTTPResponse
            do {
                response = try await client.download(from: location, into: part.descriptor, name: "\(path).part",
                                                     resume: true) { progress in
                    reporter.report(.progress(path: path, bytes: progress.downloaded, total: progress.downloadTotal ?? 0))
                }
            } catch let error as PixieBrixError where error.kind == .forbidden {
                // Storage refuses an expired link: ask the API for a fresh one, once.
                if attempt == 1 { continue }
                throw JobFailure(reason: "storage refused the download link twice (\(error.detail ?? "403"))")
            } catch let error as PixieBrixError where error.kind == .localFile {
                let free = Self.freeBytes(at: ((folder + "/" + path) as NSString).deletingLastPathComponent)
                    .map { ", \($0) bytes free on disk" }
                throw JobFailure(reason: "cannot write \(path).part (kept for resuming): \(error.message)\(free ?? "")")
            }
            let etag = response.headers["ETag"].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")).lowercased() }
            switch response.status {
            case 206:
                if let total = response.headers["Content-Range"]?.split(separator: "/").last.flatMap({ Int64($0) }) {
                    return (total, etag)
                }
            case 200:
                if let length = response.headers["Content-Length"].flatMap({ Int64($0) }) { return (length, etag) }
                return (part.size, etag)
            case 416:
                // Everything was already on disk: learn the length and ETag without the body.
                let info = try await client.remoteObjectInfo(location)
                return (info.length, info.etag)
            default:
                break
            }
            throw JobFailure(reason: "storage answered \(response.status) without the object's length")
        }
        throw JobFailure(reason: "storage refused the download link twice")
    }

    private func verify(_ job: PullJob, part: PartFile) throws -> ManifestEntry {
        try verify(job, descriptor: part.descriptor, name: "\(job.path).part", discard: part.discard)
    }

    /// Checks the file a killed run renamed into place before it could commit; removes it if it is wrong.
    private func verifyInPlace(_ job: PullJob, in root: ConfinedFolder) throws -> ManifestEntry {
        let descriptor: Int32
        do { descriptor = try root.openForReading(job.path) } catch { throw JobFailure(reason: error.message) }
        defer { close(descriptor) }
        return try verify(job, descriptor: descriptor, name: job.path) { root.remove(job.path) }
    }

    /// Length, then MD5 against storage's `ETag`, read through an open descriptor; `discard` drops a wrong file.
    private func verify(_ job: PullJob, descriptor: Int32, name: String, discard: () -> Void) throws -> ManifestEntry {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw JobFailure(reason: "cannot read \(name): \(String(cString: strerror(errno)))")
        }
        let size = Int64(info.st_size)
        let mtimeNs = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if let expected = job.size, size != expected {
            discard()
            throw JobFailure(reason: "downloaded \(size) bytes, expected \(expected); the partial file was removed")
        }
        let digest: FileDigest
        do { digest = try FileDigest.of(descriptor: descriptor) } catch {
            throw JobFailure(reason: "cannot read \(name): \(error.localizedDescription)")
        }
        if let etag = job.etag, etag.count == 32, etag != digest.md5 {
            discard()
            throw JobFailure(reason: "the download's MD5 \(digest.md5) differs from storage's ETag \(etag); "
                + "the partial file was removed")
        }
        return ManifestEntry(path: job.path, size: size, mtimeNs: mtimeNs, md5: digest.md5,
                             sha256: digest.sha256, assetId: job.assetId, etag: job.etag, syncedAt: Date())
    }

    static func freeBytes(at path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Opens `NAME.part` inside the pull folder (see ``ConfinedFolder/openPart(for:resume:)``): a link on the way
    /// is refused, a planted `.part` link removed, never followed.
    private func openPart(for relative: String, in root: ConfinedFolder) throws -> PartFile {
        do { return try root.openPart(for: relative, resume: true) } catch {
            throw JobFailure(reason: "\(error.message); not written")
        }
    }

    private func commit(_ part: PartFile) throws {
        do { try part.commit() } catch { throw JobFailure(reason: error.message) }
    }
}
