import Foundation
import Logging
import PixieBrix
import Transfer

/// Runs queued pull jobs: `queued → downloading → verifying → done`, `transfers` at a time.
///
/// ``PullLifecycle`` decides; this carries out its actions and reports what happened as events.
struct PullRunner {
    let folder: String
    let database: String
    let client: PixieBrixClient
    let store: StateStore
    let transfers: Int
    let budget: RetryBudget
    let reporter: any SyncReporter
    let logger: Logger

    func run() async throws -> SyncSummary {
        let store = self.store
        let feeder = JobFeeder<PullJob>(load: { try store.activePullJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
        return try await drain(feeder, workers: transfers, process)
    }

    /// What one job's run has seen, beyond the job itself.
    private struct Attempt {
        let started = ContinuousClock.now
        var lastError: PixieBrixError?
        var entry: ManifestEntry?
        /// The file was found in place already (a run killed between the rename and its commit).
        var placed = false

        var elapsed: Duration { ContinuousClock.now - started }
    }

    private func process(_ start: PullJob) async throws -> JobResult {
        var job = start
        var lifecycle = PullLifecycle(state: job.state, budget: budget)
        var attempt = Attempt()
        let target = folder + "/" + job.path
        let part = target + ".part"
        reporter.report(.started(path: job.path, bytes: job.size ?? 0))
        var action = lifecycle.handle(.resumed)
        while true {
            switch action {
            case .run(let step):
                try store.commit(&job, state: step.runningState)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
                action = lifecycle.handle(await perform(step, &job, target: target, &attempt))
            case .retry(let step, let wait):
                logger.debug("retrying", metadata: ["file": "\(job.path)", "step": "\(step.rawValue)",
                                                    "reason": "\(attempt.lastError?.description ?? "")"])
                try await pauseBeforeRetry(wait)
                action = lifecycle.handle(await perform(step, &job, target: target, &attempt))
            case .finish:
                guard let entry = attempt.entry else {
                    action = lifecycle.handle(.contentMismatch("\(job.path).part was not checked"))
                    continue
                }
                guard attempt.placed || rename(part, target) == 0 else {
                    let reason = "cannot move \(job.path).part into place: \(String(cString: strerror(errno)))"
                    try store.fail(&job, reason: reason)
                    reporter.report(.failed(path: job.path, reason: reason))
                    return .failed(retries: lifecycle.retries)
                }
                let status = LocalScanner.fileStatus(path: target)
                var final = entry
                final.mtimeNs = status?.mtimeNs ?? entry.mtimeNs
                try store.finish(&job, entry: final)
                reporter.report(.finished(path: job.path, bytes: entry.size))
                return .done(bytes: entry.size, retries: lifecycle.retries)
            case .fail(let reason, let removePart):
                if removePart { try? FileManager.default.removeItem(atPath: part) }
                try store.fail(&job, reason: reason)
                reporter.report(.failed(path: job.path, reason: reason))
                return .failed(retries: lifecycle.retries)
            case .stopRun:
                let error = attempt.lastError
                throw SyncError(kind: .api(error?.kind ?? .cancelled), message: error?.description ?? "stopped")
            case .ignore:
                return job.state == .done ? .done(bytes: job.size ?? 0, retries: lifecycle.retries)
                    : .failed(retries: lifecycle.retries)
            }
        }
    }

    /// Runs one attempt of a step and says how it went.
    private func perform(_ step: PullStep, _ job: inout PullJob, target: String, _ attempt: inout Attempt) async -> PullEvent {
        let part = target + ".part"
        do {
            switch step {
            case .download:
                try prepareFolder(for: job.path)
                let downloaded = try await download(job, into: part)
                job.size = downloaded.size
                job.etag = downloaded.etag
                job.bytes = downloaded.size
                return .succeeded
            case .verify:
                // A run killed between the rename and its commit left the file in place: check it there.
                attempt.placed = LocalScanner.fileStatus(path: part) == nil && LocalScanner.fileStatus(path: target) != nil
                attempt.entry = try verify(job, part: attempt.placed ? target : part)
                return .succeeded
            }
        } catch let error as PixieBrixError {
            attempt.lastError = error
            return .failed(StepFailure.classify(error), elapsed: attempt.elapsed)
        } catch let mismatch as ContentMismatch {
            return .contentMismatch(mismatch.reason)
        } catch let error as JobFailure {
            return .failed(.permanent(error.reason), elapsed: attempt.elapsed)
        } catch {
            return .failed(.permanent("\(error)"), elapsed: attempt.elapsed)
        }
    }

    /// One download attempt into `part`, resuming from its bytes: the `302` for a fresh link, then
    /// the storage `GET`. Returns the object's full length and `ETag`.
    private func download(_ job: PullJob, into part: String) async throws -> (size: Int64, etag: String?) {
        let path = job.path
        let reporter = self.reporter
        let location = try await client.downloadLocation(database: database, id: job.assetId)
        let response: HTTPResponse
        do {
            response = try await client.download(from: location, to: part, resume: true) { progress in
                reporter.report(.progress(path: path, bytes: progress.downloaded, total: progress.downloadTotal ?? 0))
            }
        } catch let error as PixieBrixError where error.kind == .localFile {
            let free = Self.freeBytes(at: (part as NSString).deletingLastPathComponent).map { ", \($0) bytes free on disk" }
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
            return (LocalScanner.fileStatus(path: part)?.size ?? 0, etag)
        case 416:
            // Everything was already on disk: learn the length and ETag without the body.
            let info = try await client.remoteObjectInfo(location)
            return (info.length, info.etag)
        default:
            break
        }
        throw JobFailure(reason: "storage answered \(response.status) without the object's length")
    }

    private func verify(_ job: PullJob, part: String) throws -> ManifestEntry {
        guard let status = LocalScanner.fileStatus(path: part) else {
            throw JobFailure(reason: "\(job.path).part disappeared before it was checked")
        }
        if let size = job.size, status.size != size {
            throw ContentMismatch(reason: "downloaded \(status.size) bytes, expected \(size)")
        }
        let digest: FileDigest
        do { digest = try FileDigest.of(path: part) } catch {
            throw JobFailure(reason: "cannot read \(job.path).part: \(error.localizedDescription)")
        }
        if let etag = job.etag, etag.count == 32, etag != digest.md5 {
            throw ContentMismatch(reason: "the download's MD5 \(digest.md5) differs from storage's ETag \(etag)")
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

/// The downloaded bytes are not storage's.
struct ContentMismatch: Error {
    var reason: String
}
