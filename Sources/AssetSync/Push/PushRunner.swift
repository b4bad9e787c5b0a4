import Foundation
import Logging
import PixieBrix
import WireFormat

/// Runs queued push jobs through the lifecycle, `transfers` files at a time.
///
/// ``PushLifecycle`` decides; this carries out its actions (commits, requests, pauses) and reports
/// what happened back as events. Every transition is committed before the step it guards. A failure
/// of one file is recorded on its job and the others go on; a failure of the whole run (a refused
/// token, an unreachable server) stops every worker and leaves the jobs resumable.
struct PushRunner {
    let folder: String
    let database: String
    let client: PixieBrixClient
    let store: StateStore
    let options: PushOptions
    let reporter: any SyncReporter
    let logger: Logger
    /// The folder opened once, so each upload opens its file relative to it without following links.
    private let confinedFolder: ConfinedFolder?

    init(folder: String, database: String, client: PixieBrixClient, store: StateStore, options: PushOptions,
         reporter: any SyncReporter, logger: Logger) {
        self.folder = folder
        self.database = database
        self.client = client
        self.store = store
        self.options = options
        self.reporter = reporter
        self.logger = logger
        confinedFolder = try? ConfinedFolder(path: folder, create: false)
    }

    /// Upload URLs live one hour; one issued longer ago than this is not used.
    static let uploadURLLifetime: TimeInterval = 55 * 60
    static let maxFilenameLength = 255

    func run() async throws -> SyncSummary {
        let store = self.store
        let feeder = JobFeeder<PushJob>(load: { try store.activePushJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
        return try await drain(feeder, workers: options.transfers, process)
    }

    /// What one job's run has seen, beyond the job itself.
    private struct Attempt {
        let started = ContinuousClock.now
        /// The last API error, thrown as the run's failure if the lifecycle stops the run.
        var lastError: PixieBrixError?
        /// The file as it now is, when a look at it found a change (its digest, when it was hashed).
        var changed: (size: Int64, mtimeNs: Int64, digest: FileDigest?)?

        var elapsed: Duration { ContinuousClock.now - started }
    }

    /// Runs one job to `done` or `failed`; returns how it ended for the summary. The watch service's
    /// scheduler calls it too, one job at a time per worker.
    func process(_ start: PushJob) async throws -> JobResult {
        var job = start
        var lifecycle = PushLifecycle(state: job.state, recreations: job.recreations, budget: options.retryBudget)
        var attempt = Attempt()
        reporter.report(.started(path: job.path, bytes: job.size))
        var action = lifecycle.handle(.resumed)
        while true {
            switch action {
            case .checkFile:
                action = lifecycle.handle(try checkFile(&job, &attempt))
            case .run(let step):
                try store.commit(&job, state: step.runningState)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
                action = lifecycle.handle(await performAndReport(step, &job, &attempt))
            case .retry(let step, let wait, let possibleOrphan):
                if let possibleOrphan { try store.recordOrphan(path: job.path, assetId: nil, reason: possibleOrphan) }
                logger.debug("retrying", metadata: ["file": "\(job.path)", "step": "\(step.rawValue)",
                                                    "reason": "\(attempt.lastError?.description ?? "")"])
                try await pauseBeforeRetry(wait)
                action = lifecycle.handle(await performAndReport(step, &job, &attempt))
            case .recordPossibleOrphan(let reason, let step):
                try store.recordOrphan(path: job.path, assetId: nil, reason: reason)
                try store.commit(&job, state: step.runningState)
                action = lifecycle.handle(await performAndReport(step, &job, &attempt))
            case .recreate(let reason):
                try store.recreate(&job, reason: reason)
                action = lifecycle.handle(.reset)
            case .restart(let reason):
                guard let changed = attempt.changed else {
                    action = lifecycle.handle(.localFileUnreadable("its new content was not read"))
                    continue
                }
                try store.restart(&job, size: changed.size, mtimeNs: changed.mtimeNs, digest: changed.digest,
                                  reason: reason)
                attempt.changed = nil
                reporter.report(.notice("\(job.path) changed while in flight: starting over with its new content"))
                action = lifecycle.handle(.reset)
            case .fail(let reason):
                try store.fail(&job, reason: reason)
                logger.info("push failed", metadata: ["file": "\(job.path)", "reason": "\(reason)"])
                reporter.report(.failed(path: job.path, reason: reason))
                return .failed(retries: lifecycle.retries)
            case .finish:
                try store.finish(&job)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
                reporter.report(.finished(path: job.path, bytes: job.size))
                return .done(bytes: job.size, retries: lifecycle.retries)
            case .stopRun:
                let error = attempt.lastError
                throw SyncError(kind: .api(error?.kind ?? .cancelled), message: error?.description ?? "stopped")
            case .ignore:
                return job.state == .done ? .done(bytes: job.size, retries: lifecycle.retries)
                    : .failed(retries: lifecycle.retries)
            }
        }
    }

    /// Compares the file with the queued content: a `stat`, and a hash only if that changed.
    private func checkFile(_ job: inout PushJob, _ attempt: inout Attempt) throws -> PushEvent {
        let path = folder + "/" + job.path
        guard let now = LocalScanner.fileStatus(path: path, followingLink: options.followSymlinks) else {
            return .localFileMissing
        }
        if now.size == job.size && now.mtimeNs == job.mtimeNs { return .localFileUnchanged }
        guard job.contentKnown else {
            // Nothing sent so far counts: the upload hashes what it sends, so the job takes the file as it is.
            (job.size, job.mtimeNs) = (now.size, now.mtimeNs)
            try store.commit(&job, state: job.state)
            return .localFileUnchanged
        }
        let digest: FileDigest
        do { digest = try FileDigest.of(path: path) } catch { return .localFileUnreadable(error.localizedDescription) }
        if digest.md5 == job.md5 && digest.size == job.size {
            // Touched, not changed: remember the new time so that the next look needs no hash.
            job.mtimeNs = now.mtimeNs
            try store.commit(&job, state: job.state)
            return .localFileUnchanged
        }
        attempt.changed = (digest.size, now.mtimeNs, digest)
        return .localFileChanged
    }

    /// Runs one attempt of a step; a finished step's state is reported at once (and committed with
    /// the next step's running state, as docs/architecture.md has it).
    private func performAndReport(_ step: PushStep, _ job: inout PushJob, _ attempt: inout Attempt) async -> PushEvent {
        let event = await perform(step, &job, &attempt)
        if event == .succeeded && step != .verify {
            job.state = step.finishedState
            reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
        }
        return event
    }

    /// Runs one attempt of a step and says how it went.
    private func perform(_ step: PushStep, _ job: inout PushJob, _ attempt: inout Attempt) async -> PushEvent {
        do {
            switch step {
            case .create: return try await create(&job, attempt.elapsed)
            case .upload: return try await upload(&job, &attempt)
            case .mark: return try await mark(&job)
            case .verify: return try await verify(&job, attempt.elapsed)
            }
        } catch let error as PixieBrixError {
            attempt.lastError = error
            return .failed(StepFailure.classify(error), elapsed: attempt.elapsed)
        } catch {
            return .failed(.permanent("\(error)"), elapsed: attempt.elapsed)
        }
    }

    private func create(_ job: inout PushJob, _ elapsed: Duration) async throws -> PushEvent {
        let length = job.path.unicodeScalars.count
        guard length <= Self.maxFilenameLength else {
            return .failed(.permanent("the name is \(length) characters long; PixieBrix allows at most \(Self.maxFilenameLength)"),
                           elapsed: elapsed)
        }
        let upload = try await client.createAsset(database: database, filename: job.path)
        job.assetId = upload.asset.id
        job.uploadUrl = upload.post.url.absoluteString
        job.uploadFields = Self.encodeFields(upload.post.fields)
        job.issuedAt = Date()
        return .succeeded
    }

    /// Sends the file and hashes the bytes as they go (on the other core): storage's ETag must be the MD5 of
    /// what was sent, and the file's status, the same before and after, says that was the file as it stood.
    private func upload(_ job: inout PushJob, _ attempt: inout Attempt) async throws -> PushEvent {
        guard let issuedAt = job.issuedAt, Date().timeIntervalSince(issuedAt) < Self.uploadURLLifetime,
              let post = Self.decodePost(job)
        else { return .uploadLinkExpired }
        let descriptor: Int32
        do { descriptor = try openForUpload(job.path) } catch { return .localFileUnreadable(error.description) }
        defer { close(descriptor) }
        guard let before = OpenFileStatus(descriptor: descriptor) else {
            return .localFileUnreadable(String(cString: strerror(errno)))
        }
        let (path, reporter) = (job.path, self.reporter)
        let hasher = StreamDigest(descriptor: descriptor, sha256: options.verify == .content)
        let etag: String
        do {
            etag = try await client.upload(post, descriptor: descriptor, filename: job.path,
                                           bandwidthLimit: options.bandwidthLimit, observer: hasher) { progress in
                reporter.report(.progress(path: path, bytes: progress.uploaded, total: before.size))
            }
        } catch {
            hasher.stop()
            throw error
        }
        let streamed = hasher.finish()
        guard let after = OpenFileStatus(descriptor: descriptor), after == before else {
            // Written to while it was sent: storage may hold a mix of old and new bytes.
            let now = OpenFileStatus(descriptor: descriptor) ?? before
            attempt.changed = (now.size, now.mtimeNs, nil)
            return .fileChangedDuringUpload
        }
        let sent: FileDigest
        if let streamed, streamed.size == before.size, streamed.sha256 != nil || options.verify != .content {
            sent = FileDigest(md5: streamed.md5, sha256: streamed.sha256 ?? "", size: streamed.size)
        } else {
            // The hasher could not read a rewound body's prefix: read the file, unchanged as its status says.
            do { sent = try FileDigest.of(descriptor: descriptor) } catch { return .localFileUnreadable("\(error)") }
        }
        guard etag == sent.md5 else {
            return .etagMismatch("storage's ETag \(etag) does not match the MD5 of the bytes sent, \(sent.md5)")
        }
        job.take(sent)
        (job.size, job.mtimeNs, job.ctimeNs, job.inode) = (before.size, before.mtimeNs, before.ctimeNs, before.inode)
        job.etag = etag
        return .succeeded
    }

    /// Opens the job's file for its upload: relative to the folder with no link followed on the way or at the end,
    /// or, with `--follow-symlinks`, by its path (the planner queued only links whose target stays inside).
    private func openForUpload(_ relative: String) throws(SyncError) -> Int32 {
        if !options.followSymlinks {
            guard let confinedFolder else { throw SyncError(kind: .localFolder, message: "cannot open the folder \(folder)") }
            return try confinedFolder.openForReading(relative)
        }
        let path = folder + "/" + relative
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        var info = stat()
        guard descriptor >= 0 else { throw SyncError(kind: .localFolder, message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw SyncError(kind: .localFolder, message: "\(path) is not a regular file")
        }
        return descriptor
    }

    private func mark(_ job: inout PushJob) async throws -> PushEvent {
        guard let assetId = job.assetId else { return .assetIdMissing }
        try await client.markUploaded(database: database, id: assetId)
        return .succeeded
    }

    private func verify(_ job: inout PushJob, _ elapsed: Duration) async throws -> PushEvent {
        guard let assetId = job.assetId else { return .assetIdMissing }
        let asset = try await client.asset(database: database, id: assetId)
        guard asset.isUploaded else {
            return .failed(.permanent("the server does not show asset \(assetId) as uploaded"), elapsed: elapsed)
        }
        guard asset.filename == job.path else {
            return .failed(.permanent("the server holds asset \(assetId) as \"\(asset.filename)\", not \"\(job.path)\""),
                           elapsed: elapsed)
        }
        if options.verify == .content {
            let location = try await client.downloadLocation(database: database, id: assetId)
            let temporary = NSTemporaryDirectory() + "assets-verify-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            _ = try await client.download(from: location, to: temporary, resume: false)
            let digest = try FileDigest.of(path: temporary)
            guard digest.sha256 == (try localSHA256(job)) else {
                return .failed(.permanent("the stored bytes' SHA-256 differs from the file's"), elapsed: elapsed)
            }
        }
        return .succeeded
    }

    /// The SHA-256 of the content sent: recorded when the upload ran with `--verify content`, else read from the file
    /// (a job uploaded by an earlier run without it).
    private func localSHA256(_ job: PushJob) throws -> String {
        if !job.sha256.isEmpty { return job.sha256 }
        let descriptor = try openForUpload(job.path)
        defer { close(descriptor) }
        return try FileDigest.of(descriptor: descriptor).sha256
    }

    static func encodeFields(_ fields: [PresignedPost.Field]) -> String {
        JSONValue.array(fields.map { .array([.string($0.name), .string($0.value)]) }).jsonText
    }

    static func decodePost(_ job: PushJob) -> PresignedPost? {
        guard let urlText = job.uploadUrl, let url = URL(string: urlText), let fieldsText = job.uploadFields,
              case .array(let pairs)? = try? JSONValue(parsing: Data(fieldsText.utf8))
        else { return nil }
        var fields: [PresignedPost.Field] = []
        for pair in pairs {
            guard case .array(let parts) = pair, parts.count == 2, let name = parts[0].stringValue,
                  let value = parts[1].stringValue
            else { return nil }
            fields.append(PresignedPost.Field(name: name, value: value))
        }
        return PresignedPost(url: url, fields: fields)
    }
}
