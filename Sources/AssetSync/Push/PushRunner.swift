import Foundation
import Logging
import PixieBrix
import Transfer

/// Runs queued push jobs through the lifecycle, `transfers` files at a time.
///
/// Every transition is committed before the step it guards (see ``PushLifecycle``). A failure of
/// one file is recorded on its job and the others go on; a failure of the whole run (a refused
/// token, an unreachable server) stops every worker and leaves the jobs resumable.
struct PushRunner {
    let folder: String
    let database: String
    let client: PixieBrixClient
    let store: StateStore
    let options: PushOptions
    let reporter: any SyncReporter
    let logger: Logger

    /// Upload URLs live one hour; one issued longer ago than this is not used.
    static let uploadURLLifetime: TimeInterval = 55 * 60
    static let maxRecreations = 3
    static let maxFilenameLength = 255

    private enum StepOutcome {
        case finished
        /// The job was reset (new content or a fresh create); run the loop again from its new state.
        case restarted
    }

    func run() async throws -> SyncSummary {
        let store = self.store
        let feeder = JobFeeder<PushJob>(load: { try store.activePushJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
        return try await drain(feeder, workers: options.transfers, process)
    }

    /// Runs one job to `done` or `failed`; returns how it ended for the summary. The watch service's
    /// scheduler calls it too, one job at a time per worker.
    func process(_ start: PushJob) async throws -> JobResult {
        var job = start
        reporter.report(.started(path: job.path, bytes: job.size))
        if PushLifecycle.mayHaveOrphaned(resumingFrom: job.state) {
            try store.recordOrphan(path: job.path, assetId: nil, reason: "the process stopped during the create; the server may hold an unmarked asset")
        }
        while let step = PushLifecycle.nextStep(from: job.state) {
            do {
                if try refreshIfChanged(&job, before: step) { continue }
                try store.commit(&job, state: step.runningState)
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
                switch try await perform(step, &job) {
                case .restarted:
                    continue
                case .finished where step == .verify:
                    try store.finish(&job)
                case .finished:
                    // Committed with the next step's running state, before that step starts: one
                    // write per step, and what this step learned is durable before it is relied on.
                    job.state = step.finishedState
                }
                reporter.report(.stateChanged(path: job.path, state: job.state.rawValue))
            } catch let error as JobFailure {
                try store.fail(&job, reason: error.reason)
                logger.info("push failed", metadata: ["file": "\(job.path)", "reason": "\(error.reason)"])
                reporter.report(.failed(path: job.path, reason: error.reason))
                return .failed
            } catch let error as PixieBrixError {
                if let fatal = runFailure(error) { throw fatal }
                if error.isTransient {
                    // Left in its state: the next run resumes it.
                    job.error = error.description
                    try store.commit(&job, state: job.state)
                    reporter.report(.failed(path: job.path, reason: "\(error) (will resume on the next run)"))
                    return .failed
                }
                try store.fail(&job, reason: error.description)
                reporter.report(.failed(path: job.path, reason: error.description))
                return .failed
            }
        }
        reporter.report(.finished(path: job.path, bytes: job.size))
        return .done(bytes: job.size)
    }

    /// A failure that ends the whole run rather than one file.
    private func runFailure(_ error: PixieBrixError) -> SyncError? {
        switch error.kind {
        case .unauthorized, .forbidden, .unreachable, .insecureURL, .foreignHost, .cancelled:
            return SyncError(kind: .api(error.kind), message: error.description)
        default:
            return nil
        }
    }

    /// Before creating, uploading or marking: if the file changed since it was queued, start over
    /// with the new content. Returns true when the job was restarted.
    private func refreshIfChanged(_ job: inout PushJob, before step: PushStep) throws -> Bool {
        guard step != .verify, PushLifecycle.restartsOnLocalChange(in: job.state) else { return false }
        let path = folder + "/" + job.path
        guard let now = LocalScanner.fileStatus(path: path, followingLink: options.followSymlinks) else {
            throw JobFailure(reason: "the file disappeared before its upload finished")
        }
        if now.size == job.size && now.mtimeNs == job.mtimeNs { return false }
        let digest: FileDigest
        do { digest = try FileDigest.of(path: path) } catch {
            throw JobFailure(reason: "cannot read the file: \(error.localizedDescription)")
        }
        if digest.md5 == job.md5 && digest.size == job.size {
            job.mtimeNs = now.mtimeNs
            try store.commit(&job, state: job.state)
            return false
        }
        try store.restart(&job, size: digest.size, mtimeNs: now.mtimeNs, digest: digest,
                          reason: "the file changed before its upload finished")
        reporter.report(.notice("\(job.path) changed while in flight: starting over with its new content"))
        return true
    }

    private func perform(_ step: PushStep, _ job: inout PushJob) async throws -> StepOutcome {
        switch step {
        case .create: try await create(&job)
        case .upload: try await upload(&job)
        case .mark: try await mark(&job)
        case .verify: try await verify(&job)
        }
    }

    private func create(_ job: inout PushJob) async throws -> StepOutcome {
        guard job.path.unicodeScalars.count <= Self.maxFilenameLength else {
            throw JobFailure(reason: "the name is \(job.path.unicodeScalars.count) characters long; "
                + "PixieBrix allows at most \(Self.maxFilenameLength)")
        }
        let upload = try await client.createAsset(database: database, filename: job.path)
        job.assetId = upload.asset.id
        job.uploadUrl = upload.post.url.absoluteString
        job.uploadFields = Self.encodeFields(upload.post.fields)
        job.issuedAt = Date()
        return .finished
    }

    private func upload(_ job: inout PushJob) async throws -> StepOutcome {
        guard let issuedAt = job.issuedAt, Date().timeIntervalSince(issuedAt) < Self.uploadURLLifetime,
              let post = Self.decodePost(job)
        else {
            return try recreate(&job, reason: "its upload URL expired before the upload")
        }
        let path = job.path
        let size = job.size
        let reporter = self.reporter
        let etag: String
        do {
            etag = try await client.upload(post, file: folder + "/" + job.path, filename: job.path,
                                           bandwidthLimit: options.bandwidthLimit) { progress in
                reporter.report(.progress(path: path, bytes: progress.uploaded, total: size))
            }
        } catch let error as PixieBrixError where error.kind == .forbidden {
            return try recreate(&job, reason: "storage refused the upload URL (\(error.detail ?? "403"))")
        } catch let error as PixieBrixError where error.kind == .localFile {
            throw JobFailure(reason: "cannot read the file: \(error.message)")
        }
        guard etag == job.md5 else {
            // The bytes sent were not those hashed: the file changed during the upload.
            let digest = try? FileDigest.of(path: folder + "/" + job.path)
            let status = LocalScanner.fileStatus(path: folder + "/" + job.path, followingLink: options.followSymlinks)
            guard let digest, let status, digest.md5 != job.md5 || digest.md5 == etag else {
                throw JobFailure(reason: "storage's ETag \(etag) does not match the file's MD5 \(job.md5)")
            }
            try store.restart(&job, size: digest.size, mtimeNs: status.mtimeNs, digest: digest,
                              reason: "the file changed during its upload")
            return .restarted
        }
        job.etag = etag
        return .finished
    }

    private func recreate(_ job: inout PushJob, reason: String) throws -> StepOutcome {
        guard job.recreations < Self.maxRecreations else {
            throw JobFailure(reason: "\(reason), \(job.recreations) times")
        }
        try store.recreate(&job, reason: reason)
        return .restarted
    }

    private func mark(_ job: inout PushJob) async throws -> StepOutcome {
        guard let assetId = job.assetId else { return try recreate(&job, reason: "no asset id was recorded") }
        try await client.markUploaded(database: database, id: assetId)
        return .finished
    }

    private func verify(_ job: inout PushJob) async throws -> StepOutcome {
        guard let assetId = job.assetId else { return try recreate(&job, reason: "no asset id was recorded") }
        let asset = try await client.asset(database: database, id: assetId)
        guard asset.isUploaded else { throw JobFailure(reason: "the server does not show asset \(assetId) as uploaded") }
        guard asset.filename == job.path else {
            throw JobFailure(reason: "the server holds asset \(assetId) as \"\(asset.filename)\", not \"\(job.path)\"")
        }
        if options.verify == .content {
            let location = try await client.downloadLocation(database: database, id: assetId)
            let temporary = NSTemporaryDirectory() + "assets-verify-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            _ = try await client.download(from: location, to: temporary, resume: false)
            let digest = try FileDigest.of(path: temporary)
            guard digest.sha256 == job.sha256 else {
                throw JobFailure(reason: "the stored bytes' SHA-256 differs from the file's")
            }
        }
        return .finished
    }

    static func encodeFields(_ fields: [MultipartForm.Field]) -> String {
        JSONValue.array(fields.map { .array([.string($0.name), .string($0.value)]) }).jsonText
    }

    static func decodePost(_ job: PushJob) -> PresignedPost? {
        guard let urlText = job.uploadUrl, let url = URL(string: urlText), let fieldsText = job.uploadFields,
              case .array(let pairs)? = try? JSONValue(parsing: Data(fieldsText.utf8))
        else { return nil }
        var fields: [MultipartForm.Field] = []
        for pair in pairs {
            guard case .array(let parts) = pair, parts.count == 2, let name = parts[0].stringValue,
                  let value = parts[1].stringValue
            else { return nil }
            fields.append(MultipartForm.Field(name: name, value: value))
        }
        return PresignedPost(url: url, fields: fields)
    }
}

/// A reason one file cannot be pushed (or pulled); recorded on its job.
struct JobFailure: Error {
    var reason: String
}

enum JobResult: Sendable {
    case done(bytes: Int64)
    case failed
}

actor Tally {
    private(set) var summary = SyncSummary()

    func add(_ result: JobResult) {
        switch result {
        case .done(let bytes):
            summary.done += 1
            summary.bytes += bytes
        case .failed:
            summary.failed += 1
        }
    }
}
