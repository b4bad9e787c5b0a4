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
    /// Age (from `updated_at`), size and `--files-from` filters on the remote assets.
    public var filter = FileFilter()
    /// Decide "changed" by MD5 (`--checksum`): a local file's hash (cached in the manifest) against
    /// storage's `ETag`.
    public var checksum = false

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
        var listingRetries = 0
        let rules = IgnoreRules(include: options.include, exclude: options.exclude)
        let filter = options.filter
        var refusedNames: [String: String] = [:]
        var remotePaths: Set<String> = []
        let started = ContinuousClock.now
        while true {
            newest = [:]
            refusedNames = [:]
            remotePaths = []
            do {
                try await client.assets(database: database) { page in
                    for asset in page where asset.isUploaded {
                        switch RemotePath.localPath(for: asset.filename) {
                        case .failure(let error):
                            refusedNames[asset.filename] = error.description
                        case .success(let path):
                            remotePaths.insert(path)
                            if rules.ignoresFile(path) && !(options.include.isEmpty && options.exclude.isEmpty) { continue }
                            if !filter.keeps(path: path) { continue }
                            if let known = newest[path], known.asset.createdAt >= asset.createdAt { continue }
                            newest[path] = (path, asset)
                        }
                    }
                }
                break
            } catch let error as PixieBrixError {
                // The listing is read again from its first page.
                guard let wait = PullLifecycle.listingFailed(StepFailure.classify(error), retriesMade: listingRetries,
                                                             elapsed: ContinuousClock.now - started,
                                                             budget: options.retryBudget)
                else { throw error }
                listingRetries += 1
                try await pauseBeforeRetry(wait)
            }
        }
        let refused = refusedNames.map { ScanProblem(path: $0.key, reason: $0.value) }.sorted { $0.path < $1.path }
        var plan = try await decide(newest: newest.mapValues(\.asset), refused: refused)
        plan.listingRetries = listingRetries
        plan.remotePaths = remotePaths
        return plan
    }

    /// Plans the download of the newest uploaded asset of each local path (already through the globs and
    /// `--files-from`): the age and size filters, then what the folder and the manifest say of each path.
    func decide(newest candidates: [String: Asset], refused: [ScanProblem]) async throws -> PullPlan {
        var plan = PullPlan()
        plan.refused = refused
        let manifest = try store.manifest()
        let newest = try await filtered(candidates, manifest: manifest)
        let active = try store.activePullJobs()
        var unknownLocal: [PullPlan.Download] = []
        // Local files are looked at without following links: one on the way counts as no file (the run then
        // refuses to write through it and says why).
        let root = try? ConfinedFolder(path: folder, create: false)
        var sameLocal: [(download: PullPlan.Download, entry: ManifestEntry)] = []
        for (path, asset) in newest.sorted(by: { $0.key < $1.key }) {
            if let job = active[path], job.assetId == asset.id {
                plan.resumed.append(path)
                continue
            }
            let local = root?.stamp(of: path)
            if let local, let entry = manifest[path], entry.size == local.size, entry.mtimeNs == local.mtimeNs,
               !options.checksum || Self.cachesHash(entry, of: local) {
                if entry.assetId == asset.id {
                    plan.unchanged += 1
                } else if options.checksum {
                    // Another asset under the same name: the same bytes need no download.
                    sameLocal.append((.init(path: path, asset: asset), entry))
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
        let logger = self.logger
        let checked = try await unknownLocal.concurrentCompactMap(limit: options.transfers) {
            download -> (PullPlan.Download, ManifestEntry?) in
            let location = try await client.downloadLocation(database: database, id: download.asset.id)
            let remote = try await client.remoteObjectInfo(location)
            let path = folder + "/" + download.path
            let stamp = root?.stamp(of: download.path)
            guard let stamp, stamp.size == remote.length else { return (download, nil) }
            logger.info("hashed to compare", metadata: ["file": "\(download.path)"])
            if let digest = try? FileDigest.of(path: path), remote.etag == nil || remote.etag == digest.md5 {
                return (download, ManifestEntry(path: download.path, size: stamp.size, mtimeNs: stamp.mtimeNs,
                                                md5: digest.md5, sha256: digest.sha256, assetId: download.asset.id,
                                                etag: remote.etag, syncedAt: Date(), inode: stamp.inode,
                                                ctimeNs: stamp.ctimeNs, origin: .found))
            }
            return (download, nil)
        }
        // `--checksum`: a new asset whose stored MD5 equals the local file's (cached) one changes nothing.
        let relabelled = try await sameLocal.concurrentCompactMap(limit: options.transfers) {
            download, entry -> (PullPlan.Download, ManifestEntry?) in
            let location = try await client.downloadLocation(database: database, id: download.asset.id)
            let remote = try await client.remoteObjectInfo(location)
            guard remote.length == entry.size, let etag = remote.etag, etag == entry.md5 else { return (download, nil) }
            var same = entry
            same.assetId = download.asset.id
            same.etag = etag
            same.syncedAt = Date()
            return (download, same)
        }
        var identical: [ManifestEntry] = []
        for (download, entry) in relabelled {
            if let entry {
                identical.append(entry)
                plan.unchanged += 1
            } else {
                plan.downloads.append(download)
            }
        }
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

    /// `--checksum`'s cache hit: the entry's stamp, inode and status-change time are the file's (see
    /// ``StateStore/registerChecksumCacheMigration(_:)`` for why the status-change time).
    static func cachesHash(_ entry: ManifestEntry, of file: LocalFile) -> Bool {
        guard entry.size == file.size, entry.mtimeNs == file.mtimeNs, let ctime = entry.ctimeNs, ctime == file.ctimeNs
        else { return false }
        guard let inode = entry.inode, let other = file.inode else { return true }
        return inode == other
    }

    /// The candidates that pass the age filter (by `updated_at`) and the size filter (by the length the manifest
    /// knows for the same asset, otherwise storage's, read with a one-byte `GET`).
    private func filtered(_ candidates: [String: Asset], manifest: [String: ManifestEntry]) async throws -> [String: Asset] {
        let filter = options.filter
        guard !filter.isEmpty else { return candidates }
        let now = Date()
        var kept: [String: Asset] = [:]
        var sizeUnknown: [(String, Asset)] = []
        for (path, asset) in candidates {
            let modifiedNs = FileFilter.nanoseconds(asset.updatedAt)
            guard filter.keeps(path: path, size: nil, modifiedNs: modifiedNs, now: now) else { continue }
            guard filter.filtersBySize else {
                kept[path] = asset
                continue
            }
            if let entry = manifest[path], entry.assetId == asset.id {
                if filter.keeps(path: path, size: entry.size, modifiedNs: modifiedNs, now: now) { kept[path] = asset }
            } else {
                sizeUnknown.append((path, asset))
            }
        }
        let (client, database) = (self.client, self.database)
        let sized = try await sizeUnknown.concurrentCompactMap(limit: options.transfers) { path, asset -> (String, Asset)? in
            let remote = try await client.remoteObjectInfo(try await client.downloadLocation(database: database, id: asset.id))
            let modifiedNs = FileFilter.nanoseconds(asset.updatedAt)
            return filter.keeps(path: path, size: remote.length, modifiedNs: modifiedNs, now: now) ? (path, asset) : nil
        }
        for (path, asset) in sized { kept[path] = asset }
        return kept
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
