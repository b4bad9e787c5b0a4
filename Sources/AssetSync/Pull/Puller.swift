import Foundation
import Logging
import PixieBrix

public struct PullOptions: Sendable {
    public var transfers: Int = 8
    public var include: [String] = []
    public var exclude: [String] = []
    /// Replace local files that differ from the remote ones and were not written by an earlier pull.
    public var overwrite = false
    /// How often and how long a job's (and the listing's) transient failures are retried within a run.
    public var retryBudget = RetryBudget()
    /// `.content` also records each pulled file's SHA-256, computed while it downloads.
    public var verify: VerifyMode = .meta

    public init() {}
}

/// What a pull would do.
public struct PullPlan: Sendable {
    public struct Download: Sendable, Equatable {
        public var path: String
        public var asset: Asset
    }

    public var downloads: [Download] = []
    public var resumed: [String] = []
    public var unchanged = 0
    /// Files that cannot be pulled, with the reason (unsafe names, local conflicts).
    public var refused: [ScanProblem] = []
    /// Times the listing was read again after a transient failure.
    public var listingRetries = 0
    /// The local path of every uploaded asset in the whole listing, whatever the filters: what `--delete` keeps.
    public var remotePaths: Set<String> = []
}

/// Pulls a database's assets into a folder: the newest uploaded asset per filename, downloaded
/// into `NAME.part` with `Range` resume, checked for length and MD5, renamed into place.
public struct Puller: Sendable {
    public let folder: String
    public let database: String
    public let client: PixieBrixClient
    public let store: StateStore
    public var options: PullOptions
    public var reporter: any SyncReporter
    public var logger: Logger

    public init(folder: String, database: String, client: PixieBrixClient, store: StateStore,
                options: PullOptions = PullOptions(), reporter: any SyncReporter = SilentReporter(),
                logger: Logger = .silent("assets.pull")) {
        self.folder = folder
        self.database = database
        self.client = client
        self.store = store
        self.options = options
        self.reporter = reporter
        self.logger = logger
    }

    public func plan() async throws -> PullPlan {
        var newest: [String: (path: String, asset: Asset)] = [:]
        var plan = PullPlan()
        let rules = IgnoreRules(include: options.include, exclude: options.exclude)
        var refusedNames: [String: String] = [:]
        let started = ContinuousClock.now
        while true {
            newest = [:]
            refusedNames = [:]
            plan.remotePaths = []
            do {
                try await client.assets(database: database) { page in
                    for asset in page where asset.isUploaded {
                        switch RemotePath.localPath(for: asset.filename) {
                        case .failure(let error):
                            refusedNames[asset.filename] = error.description
                        case .success(let path):
                            plan.remotePaths.insert(path)
                            if rules.ignoresFile(path) && !(options.include.isEmpty && options.exclude.isEmpty) { continue }
                            if let known = newest[path], known.asset.createdAt >= asset.createdAt { continue }
                            newest[path] = (path, asset)
                        }
                    }
                }
                break
            } catch let error as PixieBrixError {
                // The listing is read again from its first page.
                guard let wait = PullLifecycle.listingFailed(StepFailure.classify(error), retriesMade: plan.listingRetries,
                                                             elapsed: ContinuousClock.now - started,
                                                             budget: options.retryBudget)
                else { throw error }
                plan.listingRetries += 1
                try await pauseBeforeRetry(wait)
            }
        }
        plan.refused = refusedNames.map { ScanProblem(path: $0.key, reason: $0.value) }.sorted { $0.path < $1.path }
        let manifest = try store.manifest()
        let active = try store.activePullJobs()
        var unknownLocal: [PullPlan.Download] = []
        // Local files are looked at without following links: one on the way counts as no file (the run then
        // refuses to write through it and says why).
        let root = try? ConfinedFolder(path: folder, create: false)
        for (path, asset) in newest.values.sorted(by: { $0.path < $1.path }) {
            if let job = active[path], job.assetId == asset.id {
                plan.resumed.append(path)
                continue
            }
            let local = root?.status(of: path)
            if let local, let entry = manifest[path], entry.size == local.size, entry.mtimeNs == local.mtimeNs {
                if entry.assetId == asset.id {
                    plan.unchanged += 1
                } else {
                    plan.downloads.append(.init(path: path, asset: asset))
                }
                continue
            }
            if local != nil {
                unknownLocal.append(.init(path: path, asset: asset))
            } else {
                plan.downloads.append(.init(path: path, asset: asset))
            }
        }
        // A local file the manifest does not know: identical to the remote one, or a conflict.
        let (client, database, folder, overwrite) = (self.client, self.database, self.folder, options.overwrite)
        let checked = try await unknownLocal.concurrentCompactMap(limit: options.transfers) {
            download -> (PullPlan.Download, ManifestEntry?) in
            let location = try await client.downloadLocation(database: database, id: download.asset.id)
            let remote = try await client.remoteObjectInfo(location)
            let path = folder + "/" + download.path
            if let status = LocalScanner.fileStatus(path: path), status.size == remote.length,
               let digest = try? FileDigest.of(path: path), remote.etag == nil || remote.etag == digest.md5 {
                return (download, ManifestEntry(path: download.path, size: status.size, mtimeNs: status.mtimeNs,
                                                md5: digest.md5, sha256: digest.sha256, assetId: download.asset.id,
                                                etag: remote.etag, syncedAt: Date(), origin: .found))
            }
            return (download, nil)
        }
        var identical: [ManifestEntry] = []
        for (download, entry) in checked {
            if let entry {
                identical.append(entry)
                plan.unchanged += 1
            } else if overwrite {
                plan.downloads.append(download)
            } else {
                plan.refused.append(ScanProblem(path: download.path,
                                                reason: "a different local file is in the way; kept (use --overwrite to replace it)"))
            }
        }
        try store.saveManifest(identical)
        plan.downloads.sort { $0.path < $1.path }
        return plan
    }

    public func pull() async throws -> SyncSummary {
        try await pullReturningPlan().summary
    }

    /// Pulls and returns the plan it ran with (the listing that `--delete` compares the manifest with).
    func pullReturningPlan() async throws -> (plan: PullPlan, summary: SyncSummary) {
        let started = Date()
        try store.pruneDonePulls()
        let plan = try await plan()
        for refusal in plan.refused {
            try store.recordUnpullable(path: refusal.path, assetId: "", reason: refusal.reason)
            reporter.report(.failed(path: refusal.path, reason: refusal.reason))
        }
        reporter.report(.planned(files: plan.downloads.count + plan.resumed.count, bytes: 0, unchanged: plan.unchanged))
        for download in plan.downloads {
            try store.enqueuePull(path: download.path, assetId: download.asset.id)
        }
        var summary = try await PullRunner(folder: folder, database: database, client: client, store: store,
                                           transfers: options.transfers, budget: options.retryBudget, reporter: reporter,
                                           logger: logger, verifyMode: options.verify).run()
        summary.planned = plan.downloads.count + plan.resumed.count
        summary.unchanged = plan.unchanged
        summary.failed += plan.refused.count
        summary.retries += plan.listingRetries
        summary.seconds = Date().timeIntervalSince(started)
        reporter.report(.summary(summary))
        return (plan, summary)
    }
}
