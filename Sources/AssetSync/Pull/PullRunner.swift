import Foundation
import Logging
import PixieBrix

/// Runs queued pull jobs: `queued → downloading → verifying → done`, `transfers` at a time.
///
/// ``PullLifecycle`` decides; this carries out its actions and reports what happened as events. Every
/// file is written inside the pull folder through a ``ConfinedFolder``: a `.part` opened without
/// following links, then synced and renamed into place.
struct PullRunner {
    let folder: String
    let database: String
    let client: PixieBrixClient
    let store: StateStore
    let transfers: Int
    let budget: RetryBudget
    let reporter: any SyncReporter
    let logger: Logger
    /// `.content` also computes the SHA-256 (in the same streaming pass) for the manifest.
    var verifyMode: VerifyMode = .meta
    /// Hands out the jobs (a continuous pull keeps it, to stop it on shutdown); by default, all active jobs.
    var feeder: JobFeeder<PullJob>?

    func run() async throws -> SyncSummary {
        let store = self.store
        let feeder = self.feeder
            ?? JobFeeder<PullJob>(load: { try store.activePullJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
        let root = try ConfinedFolder(path: folder, create: true)
        return try await drain(feeder, workers: transfers) { try await process($0, in: root) }
    }

    /// What one job's run has seen, beyond the job itself.
    private struct Attempt {
        let started = ContinuousClock.now
        var lastError: PixieBrixError?
        /// The open `NAME.part`, kept from the download to the check and the rename.
        var part: PartFile?
        /// The digest taken while the last download attempt wrote the part (nil after a `416`).
        var streamed: StreamDigest.Result?
        var entry: ManifestEntry?
        /// The file was found in place already (a run killed between the rename and its commit).
        var placed = false

        var elapsed: Duration { ContinuousClock.now - started }
    }

    private func process(_ start: PullJob, in root: ConfinedFolder) async throws -> JobResult {
        var job = start
        var lifecycle = PullLifecycle(state: job.state, budget: budget)
        var attempt = Attempt()
        reporter.report(.started(path: job.path, bytes: job.size ?? 0))
        var action = lifecycle.handle(.resumed)
        while true {
            switch action {
            case .run(let step):
                try store.commit(&job, state: step.runningState)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
                action = lifecycle.handle(await perform(step, &job, in: root, &attempt))
            case .retry(let step, let wait):
                logger.debug("retrying", metadata: ["file": "\(job.path)", "step": "\(step.rawValue)",
                                                    "reason": "\(attempt.lastError?.description ?? "")"])
                try await pauseBeforeRetry(wait)
                action = lifecycle.handle(await perform(step, &job, in: root, &attempt))
            case .finish:
                guard let entry = attempt.entry else {
                    action = lifecycle.handle(.contentMismatch("\(job.path).part was not checked"))
                    continue
                }
                if !attempt.placed {
                    do { try attempt.part?.commit() } catch {
                        let reason = "\(error.message); kept as \(job.path).part"
                        try store.fail(&job, reason: reason)
                        reporter.report(.failed(path: job.path, reason: reason))
                        return .failed(retries: lifecycle.retries)
                    }
                }
                var final = entry
                // The rename changed the status-change time: record the one the file has in place.
                if let stamp = root.stamp(of: job.path) {
                    final.mtimeNs = stamp.mtimeNs
                    final.inode = stamp.inode
                    final.ctimeNs = stamp.ctimeNs
                }
                try store.finish(&job, entry: final)
                reporter.report(.finished(path: job.path, bytes: entry.size))
                return .done(bytes: entry.size, retries: lifecycle.retries)
            case .fail(let reason, let removePart):
                if removePart { attempt.part?.discard() }
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
    private func perform(_ step: PullStep, _ job: inout PullJob, in root: ConfinedFolder,
                         _ attempt: inout Attempt) async -> PullEvent {
        do {
            switch step {
            case .download:
                let part = try attempt.part ?? openPart(for: job.path, in: root)
                attempt.part = part
                attempt.streamed = nil
                let downloaded = try await download(job, into: part)
                job.size = downloaded.size
                job.etag = downloaded.etag
                job.bytes = downloaded.size
                attempt.streamed = downloaded.digest
                return .succeeded
            case .verify:
                // A run killed between the rename and its commit left the file in place: check it there
                // (and make no empty .part for it).
                attempt.placed = attempt.part == nil && root.status(of: job.path + ".part") == nil
                    && root.status(of: job.path) != nil
                if attempt.placed {
                    attempt.entry = try verifyInPlace(job, in: root)
                } else {
                    let part = try attempt.part ?? openPart(for: job.path, in: root)
                    attempt.part = part
                    attempt.entry = try verify(job, descriptor: part.descriptor, name: "\(job.path).part",
                                               streamed: attempt.streamed)
                }
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
    /// the storage `GET`. Returns the object's full length and `ETag`, and the digest of the part taken
    /// while the bytes were written (the kept prefix read once through the part's descriptor).
    private func download(_ job: PullJob, into part: PartFile) async throws
        -> (size: Int64, etag: String?, digest: StreamDigest.Result?) {
        let path = job.path
        let reporter = self.reporter
        let location = try await client.downloadLocation(database: database, id: job.assetId)
        // Hashes the bytes as they are written (and a kept prefix once), so verify reads nothing back.
        let hasher = StreamDigest(descriptor: part.descriptor, sha256: verifyMode == .content)
        defer { hasher.stop() }
        let download: StorageDownload
        do {
            download = try await client.download(from: location, into: part.descriptor, name: "\(path).part",
                                                 resume: true, observer: hasher) { progress in
                reporter.report(.progress(path: path, bytes: progress.downloaded, total: progress.downloadTotal ?? 0))
            }
        } catch let error as PixieBrixError where error.kind == .localFile {
            let free = Self.freeBytes(at: ((folder + "/" + path) as NSString).deletingLastPathComponent)
                .map { ", \($0) bytes free on disk" }
            throw JobFailure(reason: "cannot write \(path).part (kept for resuming): \(error.message)\(free ?? "")")
        }
        switch download.outcome {
        case .appended:
            if let total = download.size { return (total, download.etag, hasher.finish()) }
        case .whole:
            return (download.size ?? part.size, download.etag, hasher.finish())
        case .nothingLeft:
            // Everything was already on disk: learn the length and ETag without the body.
            let info = try await client.remoteObjectInfo(location)
            return (info.length, info.etag, nil)
        }
        throw JobFailure(reason: "storage answered \(download.status) without the object's length")
    }

    /// Checks the file a killed run renamed into place before it could commit; a wrong one is removed.
    private func verifyInPlace(_ job: PullJob, in root: ConfinedFolder) throws -> ManifestEntry {
        let descriptor: Int32
        do { descriptor = try root.openForReading(job.path) } catch { throw JobFailure(reason: error.message) }
        defer { close(descriptor) }
        do {
            return try verify(job, descriptor: descriptor, name: job.path)
        } catch let mismatch as ContentMismatch {
            root.remove(job.path)
            throw mismatch
        }
    }

    /// Length, then MD5 against storage's `ETag`: `streamed` (the digest taken while downloading) when it
    /// covers the whole file, otherwise read through the open descriptor. SHA-256 only with `--verify content`.
    private func verify(_ job: PullJob, descriptor: Int32, name: String,
                        streamed: StreamDigest.Result? = nil) throws -> ManifestEntry {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw JobFailure(reason: "cannot read \(name): \(String(cString: strerror(errno)))")
        }
        let size = Int64(info.st_size)
        let mtimeNs = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if let expected = job.size, size != expected {
            throw ContentMismatch(reason: "downloaded \(size) bytes, expected \(expected)")
        }
        let digest: (md5: String, sha256: String?)
        if let streamed, streamed.size == size, streamed.sha256 != nil || verifyMode != .content {
            digest = (streamed.md5, streamed.sha256)
        } else {
            do {
                digest = verifyMode == .content ? try FileDigest.of(descriptor: descriptor).pair
                    : (try FileDigest.md5(descriptor: descriptor), nil)
            } catch {
                throw JobFailure(reason: "cannot read \(name): \(error.localizedDescription)")
            }
        }
        if let etag = job.etag, etag.count == 32, etag != digest.md5 {
            throw ContentMismatch(reason: "the download's MD5 \(digest.md5) differs from storage's ETag \(etag)")
        }
        return ManifestEntry(path: job.path, size: size, mtimeNs: mtimeNs, md5: digest.md5,
                             sha256: digest.sha256, assetId: job.assetId, etag: job.etag, syncedAt: Date(),
                             origin: .pull)
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
}

/// The downloaded bytes are not storage's.
struct ContentMismatch: Error {
    var reason: String
}
