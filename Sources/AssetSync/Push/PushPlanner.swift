import Foundation
import Logging
import PixieBrix

/// How a push checks its uploads.
public enum VerifyMode: String, Sendable, CaseIterable {
    /// `GET ?meta=true` shows the asset uploaded under its filename; storage's `ETag` equals the MD5.
    case meta
    /// Also downloads the asset and compares its SHA-256 with the file's.
    case content
}

public struct PushOptions: Sendable {
    /// Files in flight at once.
    public var transfers: Int = 8
    public var verify: VerifyMode = .meta
    public var include: [String] = []
    public var exclude: [String] = []
    /// Bytes per second per upload, if capped.
    public var bandwidthLimit: Int?
    /// Follow symbolic links whose target stays inside the folder (`--follow-symlinks`).
    public var followSymlinks = false
    /// How often and how long a job's transient failures are retried within a run.
    public var retryBudget = RetryBudget()
    /// Age, size and `--files-from` filters on the local files.
    public var filter = FileFilter()
    /// Decide "changed" by MD5 (`--checksum`), with the manifest as the cache of hashes.
    public var checksum = false

    public init() {}
}

/// What a push would do.
public struct PushPlan: Sendable {
    /// New or changed files to upload.
    public var uploads: [LocalFile] = []
    /// Files whose interrupted jobs pick up where they were.
    public var resumed: [String] = []
    /// Files already in sync.
    public var unchanged = 0
    /// Files found on the server (without a manifest) and recorded as present.
    public var presentRemotely: [String] = []
    public var problems: [ScanProblem] = []
    /// Symbolic links not followed, with why.
    public var skippedLinks: [ScanProblem] = []

    public var bytes: Int64 { uploads.reduce(0) { $0 + $1.size } }
}

/// Scans the folder and decides what to upload: new or changed files by the manifest, or, with
/// no manifest yet, by the remote listing (same filename and same length counts as present).
struct PushPlanner {
    let folder: String
    let database: String
    let client: PixieBrixClient
    let store: StateStore
    let options: PushOptions
    /// Says, at info level, each file `--checksum` had to hash.
    var logger = Logger(label: "assets.push", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The options' globs, and the state file when it lies inside the folder.
    var rules: IgnoreRules {
        var alwaysIgnored: Set<String> = []
        let statePath = URL(fileURLWithPath: store.path).standardizedFileURL.path
        let root = URL(fileURLWithPath: folder).standardizedFileURL.path + "/"
        if statePath.hasPrefix(root) {
            let relative = String(statePath.dropFirst(root.count))
            alwaysIgnored = [relative, relative + "-wal", relative + "-shm", relative + ".lock"]
        }
        return IgnoreRules(include: options.include, exclude: options.exclude, alwaysIgnored: alwaysIgnored)
    }

    /// Walks the folder in path order and merges it with the manifest read in the same order:
    /// memory holds the changes, not the tree or the manifest.
    func plan() async throws -> PushPlan {
        // Following links means resolving each target and guarding against loops: the scanner does that,
        // and its result is merged with the manifest in the same path order.
        if options.followSymlinks {
            return try await plan(scan: LocalScanner(root: folder, rules: rules, followLinks: true).scan())
        }
        let active = try store.activePushJobs()
        var plan = PushPlan()
        var toHash: [ChecksumCandidate] = []
        let walk = SortedWalk(root: folder, rules: rules)
        let (filter, checksum, now) = (options.filter, options.checksum, Date())
        let outcome = try store.withManifestStamps(checksum: checksum) { manifest in
            try walk.run { file in
                guard filter.isEmpty || filter.keeps(file, now: now) else { return }
                try Self.classify(file, active: active, manifest: manifest, checksum: checksum, into: &plan, toHash: &toHash)
            }
        }
        plan.problems = outcome.problems
        plan.skippedLinks = outcome.skippedLinks
        try await compareHashes(toHash, into: &plan)
        return try await addPresentRemotely(to: plan)
    }

    /// Plans from a scan already made (the watcher's, which adds its watches on the way).
    func plan(scan: LocalScanner.Result) async throws -> PushPlan {
        let active = try store.activePushJobs()
        var plan = PushPlan(problems: scan.problems, skippedLinks: scan.skippedLinks)
        var toHash: [ChecksumCandidate] = []
        let (filter, checksum, now) = (options.filter, options.checksum, Date())
        let files = scan.files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
            .filter { filter.isEmpty || filter.keeps($0, now: now) }
        try store.withManifestStamps(checksum: checksum) { manifest in
            for file in files {
                try Self.classify(file, active: active, manifest: manifest, checksum: checksum, into: &plan, toHash: &toHash)
            }
        }
        try await compareHashes(toHash, into: &plan)
        plan.uploads.sort { $0.path < $1.path }
        return try await addPresentRemotely(to: plan)
    }

    /// A file `--checksum` must hash: its manifest entry's MD5 says whether it changed.
    struct ChecksumCandidate: Sendable {
        var file: LocalFile
        var md5: String
    }

    /// Hashes the candidates (two at a time): the same MD5 is unchanged (its new stamp recorded, so the next
    /// run reads it from the cache), another is an upload.
    private func compareHashes(_ candidates: [ChecksumCandidate], into plan: inout PushPlan) async throws {
        guard !candidates.isEmpty else { return }
        let (folder, logger) = (self.folder, self.logger)
        let compared = try await candidates.concurrentCompactMap(limit: 2) { candidate -> (LocalFile, Bool) in
            logger.info("hashed to compare", metadata: ["file": "\(candidate.file.path)"])
            let digest = try? FileDigest.of(path: folder + "/" + candidate.file.path)
            return (candidate.file, digest.map { $0.md5 == candidate.md5 && $0.size == candidate.file.size } ?? false)
        }
        var same: [LocalFile] = []
        for (file, unchanged) in compared {
            if unchanged {
                same.append(file)
                plan.unchanged += 1
            } else {
                plan.uploads.append(file)
            }
        }
        try store.refreshStamps(same)
        plan.uploads.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// One file's place in the plan: resumed (an active job for the same content), unchanged (the
    /// manifest's stamp matches), to hash (`--checksum` without a cached hash) or to upload.
    private static func classify(_ file: LocalFile, active: [String: PushJob], manifest: ManifestStamps,
                                 checksum: Bool, into plan: inout PushPlan, toHash: inout [ChecksumCandidate]) throws {
        let stamp = try manifest.stamp(for: file.path)
        if let job = active[file.path] {
            if job.size == file.size && job.mtimeNs == file.mtimeNs {
                plan.resumed.append(file.path)
            } else {
                plan.uploads.append(file)
            }
            return
        }
        if checksum, let stamp {
            if stamp.cachesHash(of: file) {
                plan.unchanged += 1
            } else if let md5 = stamp.md5, stamp.size == file.size {
                toHash.append(ChecksumCandidate(file: file, md5: md5))
            } else {
                plan.uploads.append(file)
            }
            return
        }
        if let stamp, stamp.matches(file) {
            plan.unchanged += 1
            return
        }
        plan.uploads.append(file)
    }

    /// Without a manifest, files the server already holds count as present rather than uploads.
    private func addPresentRemotely(to plan: PushPlan) async throws -> PushPlan {
        var plan = plan
        if !plan.uploads.isEmpty, try !store.hasManifest() {
            let present = try await presentRemotely(plan.uploads)
            plan.presentRemotely = present.map(\.path).sorted()
            let presentPaths = Set(plan.presentRemotely)
            plan.uploads.removeAll { presentPaths.contains($0.path) }
            try store.saveManifest(present)
        }
        return plan
    }

    /// Candidates that the server already holds: the newest uploaded asset with the same filename
    /// has the same length (and, when storage tells it, the same MD5).
    private func presentRemotely(_ candidates: [LocalFile]) async throws -> [ManifestEntry] {
        var newest: [String: Asset] = [:]
        let wanted = Set(candidates.map(\.path))
        try await client.assets(database: database) { page in
            for asset in page where asset.isUploaded && wanted.contains(asset.filename) {
                if let known = newest[asset.filename], known.createdAt >= asset.createdAt { continue }
                newest[asset.filename] = asset
            }
        }
        let matches = candidates.compactMap { file in newest[file.path].map { (file, $0) } }
        guard !matches.isEmpty else { return [] }
        let (client, database, folder) = (self.client, self.database, self.folder)
        return try await matches.concurrentCompactMap(limit: options.transfers) { file, asset -> ManifestEntry? in
            let location = try await client.downloadLocation(database: database, id: asset.id)
            let remote = try await client.remoteObjectInfo(location)
            guard remote.length == file.size else { return nil }
            guard let digest = try? FileDigest.of(path: folder + "/" + file.path), digest.size == file.size else { return nil }
            if let etag = remote.etag, etag != digest.md5 { return nil }
            return ManifestEntry(path: file.path, size: file.size, mtimeNs: file.mtimeNs, md5: digest.md5,
                                 sha256: digest.sha256, assetId: asset.id, etag: remote.etag, syncedAt: Date(),
                                 inode: file.inode, ctimeNs: file.ctimeNs, origin: .found)
        }
    }
}

extension Sequence where Element: Sendable {
    /// Maps with at most `limit` tasks at a time, keeping the non-nil results (in no particular order).
    func concurrentCompactMap<T: Sendable>(limit: Int, _ transform: @escaping @Sendable (Element) async throws -> T?)
        async throws -> [T] {
        try await withThrowingTaskGroup(of: T?.self) { group in
            var results: [T] = []
            var iterator = makeIterator()
            var running = 0
            while running < Swift.max(1, limit), let element = iterator.next() {
                group.addTask { try await transform(element) }
                running += 1
            }
            while let result = try await group.next() {
                if let result { results.append(result) }
                if let element = iterator.next() {
                    group.addTask { try await transform(element) }
                }
            }
            return results
        }
    }
}
