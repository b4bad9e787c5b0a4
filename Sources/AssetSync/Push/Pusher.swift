import Foundation
import Logging
import PixieBrix

/// Pushes a folder to a database: scan, plan, enqueue, run the lifecycle, report.
///
/// ```swift
/// let pusher = Pusher(folder: "./images", database: id, client: client, store: store)
/// let summary = try await pusher.push()
/// ```
public struct Pusher: Sendable {
    public let folder: String
    public let database: String
    public let client: PixieBrixClient
    public let store: StateStore
    public var options: PushOptions
    public var reporter: any SyncReporter
    public var logger: Logger

    public init(folder: String, database: String, client: PixieBrixClient, store: StateStore,
                options: PushOptions = PushOptions(), reporter: any SyncReporter = SilentReporter(),
                logger: Logger = .silent("assets.push")) {
        self.folder = folder
        self.database = database
        self.client = client
        self.store = store
        self.options = options
        self.reporter = reporter
        self.logger = logger
    }

    private var planner: PushPlanner {
        PushPlanner(folder: folder, database: database, client: client, store: store, options: options, logger: logger)
    }

    /// What a push would upload; changes nothing but the manifest's record of files found remotely.
    public func plan() async throws -> PushPlan {
        try await planner.plan()
    }

    /// Plans, enqueues and runs; returns the outcome. Files that fail are recorded, the others go on.
    public func push() async throws -> SyncSummary {
        let started = Date()
        try store.pruneDonePushes()
        let plan = try await plan()
        for problem in plan.problems { reporter.report(.failed(path: problem.path, reason: problem.reason)) }
        for link in plan.skippedLinks { reporter.report(.notice(Self.skippedLinkNotice(link))) }
        let orphansBefore = try store.orphans().count
        reporter.report(.planned(files: plan.uploads.count + plan.resumed.count, bytes: plan.bytes,
                                 unchanged: plan.unchanged + plan.presentRemotely.count))
        let unreadable = try await enqueue(plan.uploads)
        var summary = try await PushRunner(folder: folder, database: database, client: client, store: store,
                                           options: options, reporter: reporter, logger: logger).run()
        summary.planned = plan.uploads.count + plan.resumed.count
        summary.unchanged = plan.unchanged + plan.presentRemotely.count
        summary.failed += plan.problems.count + unreadable
        summary.orphans = try store.orphans().count - orphansBefore
        summary.seconds = Date().timeIntervalSince(started)
        reporter.report(.summary(summary))
        return summary
    }

    /// Queues new or changed files, committing each batch of files in one transaction. Returns how many
    /// files could not be read. Their content is hashed by the upload as it is sent, not here: a file is
    /// hashed now only when a queued job of its path holds a hash to compare it with.
    private func enqueue(_ files: [LocalFile]) async throws -> Int {
        let (folder, store, reporter) = (self.folder, self.store, self.reporter)
        var unreadable = 0
        for start in stride(from: 0, to: files.count, by: Self.enqueueBatch) {
            let batch = files[start..<min(start + Self.enqueueBatch, files.count)]
            let compared = try store.pathsWithHashedJobs(batch.map(\.path))
            let looked = try await batch.concurrentCompactMap(limit: 2) { file -> (LocalFile, Result<FileDigest?, any Error>)? in
                let path = folder + "/" + file.path
                return (file, Result {
                    guard compared.contains(file.path) else {
                        try Self.checkReadable(path)
                        return nil
                    }
                    return try FileDigest.of(path: path)
                })
            }
            var ready: [(file: LocalFile, digest: FileDigest?)] = []
            for (file, result) in looked {
                switch result {
                case .success(let digest):
                    ready.append((file, digest))
                case .failure(let error):
                    let reason = "cannot read the file: \(Self.describe(error))"
                    try store.recordUnpushable(path: file.path, size: file.size, mtimeNs: file.mtimeNs, reason: reason)
                    reporter.report(.failed(path: file.path, reason: reason))
                    unreadable += 1
                }
            }
            try store.enqueuePushes(ready.sorted { $0.file.path < $1.file.path })
        }
        return unreadable
    }

    /// Opens and closes the file: one that cannot be read fails here, before an asset is created for it.
    static func checkReadable(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code: CocoaError.Code = errno == EACCES || errno == EPERM ? .fileReadNoPermission
                : errno == ENOENT ? .fileReadNoSuchFile : .fileReadUnknown
            throw CocoaError(code, userInfo: [NSFilePathErrorKey: path])
        }
        close(descriptor)
    }

    static let enqueueBatch = 512

    /// The one notice a skipped link gets.
    public static func skippedLinkNotice(_ link: ScanProblem) -> String {
        "skipped \(link.path): \(link.reason)"
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? CocoaError, error.code == .fileReadNoPermission { return "permission denied" }
        return (error as NSError).localizedDescription
    }
}
