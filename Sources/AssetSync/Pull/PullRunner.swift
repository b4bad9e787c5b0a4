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
    /// `.content` also computes the SHA-256 (in the same streaming pass) for the manifest.
    var verifyMode: VerifyMode = .meta

    func run() async throws -> SyncSummary {
        let store = self.store
        let feeder = JobFeeder<PullJob>(load: { try store.activePullJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
        return try await drain(feeder, workers: transfers, process)
    }

    private func process(_ start: PullJob) async throws -> JobResult {
        var job = start
        let target = folder + "/" + job.path
        let part = target + ".part"
        reporter.report(.started(path: job.path, bytes: job.size ?? 0))
        do {
            try prepareFolder(for: job.path)
            var downloaded: (size: Int64, etag: String?, digest: DownloadDigest.Result?)?
            if job.state == .queued || job.state == .downloading {
                try store.commit(&job, state: .downloading)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
                downloaded = try await download(&job, into: part)
                job.size = downloaded?.size
                job.etag = downloaded?.etag
                job.bytes = downloaded?.size ?? 0
                try store.commit(&job, state: .verifying)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
            }
            let entry = try verify(job, part: part, streamed: downloaded?.digest)
            guard rename(part, target) == 0 else {
                throw JobFailure(reason: "cannot move \(job.path).part into place: \(String(cString: strerror(errno)))")
            }
            let status = LocalScanner.fileStatus(path: target)
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
    private func download(_ job: inout PullJob, into part: String) async throws
        -> (size: Int64, etag: String?, digest: DownloadDigest.Result?) {
        let path = job.path
        let reporter = self.reporter
        // Hashes the bytes as they are written (and a kept prefix once), so verify reads nothing back.
        let hasher = DownloadDigest(path: part, sha256: verifyMode == .content)
        defer { hasher.stop() }
        for attempt in 1...2 {
            let location = try await client.downloadLocation(database: database, id: job.assetId)
            let response: HTTPResponse
            do {
                response = try await client.download(from: location, to: part, resume: true, observer: hasher) { progress in
                    reporter.report(.progress(path: path, bytes: progress.downloaded, total: progress.downloadTotal ?? 0))
                }
            } catch let error as PixieBrixError where error.kind == .forbidden {
                // Storage refuses an expired link: ask the API for a fresh one, once.
                if attempt == 1 { continue }
                throw JobFailure(reason: "storage refused the download link twice (\(error.detail ?? "403"))")
            } catch let error as PixieBrixError where error.kind == .localFile {
                let free = Self.freeBytes(at: (part as NSString).deletingLastPathComponent).map { ", \($0) bytes free on disk" }
                throw JobFailure(reason: "cannot write \(path).part (kept for resuming): \(error.message)\(free ?? "")")
            }
            let etag = response.headers["ETag"].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")).lowercased() }
            switch response.status {
            case 206:
                if let total = response.headers["Content-Range"]?.split(separator: "/").last.flatMap({ Int64($0) }) {
                    return (total, etag, hasher.finish())
                }
            case 200:
                if let length = response.headers["Content-Length"].flatMap({ Int64($0) }) { return (length, etag, hasher.finish()) }
                return (LocalScanner.fileStatus(path: part)?.size ?? 0, etag, hasher.finish())
            case 416:
                // Everything was already on disk: learn the length and ETag without the body.
                let info = try await client.remoteObjectInfo(location)
                return (info.length, info.etag, nil)
            default:
                break
            }
            throw JobFailure(reason: "storage answered \(response.status) without the object's length")
        }
        throw JobFailure(reason: "storage refused the download link twice")
    }

    /// Checks length and MD5; `streamed` is the digest taken while downloading, used when it covers the whole file.
    private func verify(_ job: PullJob, part: String, streamed: DownloadDigest.Result?) throws -> ManifestEntry {
        guard let status = LocalScanner.fileStatus(path: part) else {
            throw JobFailure(reason: "\(job.path).part disappeared before it was checked")
        }
        if let size = job.size, status.size != size {
            try? FileManager.default.removeItem(atPath: part)
            throw JobFailure(reason: "downloaded \(status.size) bytes, expected \(size); the partial file was removed")
        }
        let digest: (md5: String, sha256: String?)
        if let streamed, streamed.size == status.size {
            digest = (streamed.md5, streamed.sha256)
        } else {
            do {
                if verifyMode == .content {
                    digest = try FileDigest.of(path: part).pair
                } else {
                    digest = (try FileDigest.md5(path: part), nil)
                }
            } catch {
                throw JobFailure(reason: "cannot read \(job.path).part: \(error.localizedDescription)")
            }
        }
        if let etag = job.etag, etag.count == 32, etag != digest.md5 {
            try? FileManager.default.removeItem(atPath: part)
            throw JobFailure(reason: "the download's MD5 \(digest.md5) differs from storage's ETag \(etag); "
                + "the partial file was removed")
        }
        return ManifestEntry(path: job.path, size: status.size, mtimeNs: status.mtimeNs, md5: digest.md5,
                             sha256: digest.sha256, assetId: job.assetId, etag: job.etag, syncedAt: Date())
    }

    static func freeBytes(at path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Creates the file's parent folders, refusing any that would lead outside the pull folder
    /// (a symbolic link in the way).
    private func prepareFolder(for relative: String) throws {
        let parent = (relative as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        let absolute = folder + "/" + parent
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw JobFailure(reason: "cannot create the folder \(parent): \(error.localizedDescription)")
        }
        let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
        guard resolved == root || resolved.hasPrefix(root + "/") else {
            throw JobFailure(reason: "the folder \(parent) leads outside \(folder); not written")
        }
    }
}
