#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PixieBrix

/// What `push --delete` withdraws: for each file an earlier push of this folder uploaded (the manifest says
/// so) that is gone from the folder, the newest uploaded asset of its filename, when that asset is the one
/// this folder pushed. A withdrawal is `PATCH is_uploaded: false`, not a deletion: `assets restore` undoes it.
public struct PushWithdrawal: Sendable, Equatable {
    /// Files whose assets were withdrawn (or, in a dry run, would be).
    public var withdrawn: [String] = []
    /// Candidates left alone, with why.
    public var kept: [ScanProblem] = []
    /// Why nothing was withdrawn at all (a failed file, an unreadable folder), or nil.
    public var refusal: String?

    public init() {}
}

extension Pusher {
    /// Pushes, then (only when every file succeeded and the folder was read without problems) withdraws the
    /// assets of pushed files that are gone.
    ///
    /// - Throws: what the push throws; then nothing was withdrawn.
    public func pushDeleting() async throws -> (summary: SyncSummary, withdrawal: PushWithdrawal) {
        let summary = try await push()
        guard summary.failed == 0 else {
            var withdrawal = PushWithdrawal()
            withdrawal.refusal = "\(summary.failed) file(s) failed or could not be read; assets are only withdrawn "
                + "after a push in which every file succeeded"
            return (summary, withdrawal)
        }
        return (summary, try await withdrawGone(dryRun: false))
    }

    /// Withdraws (or, with `dryRun`, lists) the newest uploaded asset of each pushed file that is gone.
    public func withdrawGone(dryRun: Bool) async throws -> PushWithdrawal {
        var outcome = PushWithdrawal()
        let root = try ConfinedFolder(path: folder, create: false)
        var rules = IgnoreRules(include: options.include, exclude: options.exclude)
        var readIgnoreFiles: Set<String> = []
        var gone: [ManifestEntry] = []
        let pushed = try store.manifest().values.filter { $0.origin == .push }
            .sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        for entry in pushed {
            // The .assetsignore files on the way, as the walk would have read them: a file left out by them
            // (or by the globs) is outside this push, so its asset stays.
            var folderPath = ""
            for segment in [""] + entry.path.split(separator: "/").dropLast().map(String.init) {
                folderPath = segment.isEmpty ? "" : (folderPath.isEmpty ? segment : folderPath + "/" + segment)
                guard readIgnoreFiles.insert(folderPath).inserted else { continue }
                let ignoreFile = folderPath.isEmpty ? IgnoreRules.fileName : folderPath + "/" + IgnoreRules.fileName
                if let descriptor = try? root.openForReading(ignoreFile) {
                    let data = (try? FileHandle(fileDescriptor: descriptor, closeOnDealloc: true).readToEnd()) ?? nil
                    rules.addIgnoreFile(contents: String(decoding: data ?? Data(), as: UTF8.self), folder: folderPath)
                }
            }
            if FolderCheck.ignores(entry.path, rules: rules) { continue }
            switch root.presence(of: entry.path) {
            case .present: continue
            case .gone: gone.append(entry)
            case .unknown(let reason): outcome.kept.append(ScanProblem(path: entry.path, reason: reason))
            }
        }
        guard !gone.isEmpty else { return outcome }
        var newest: [String: Asset] = [:]
        let wanted = Set(gone.map(\.path))
        try await client.assets(database: database) { page in
            for asset in page where asset.isUploaded && wanted.contains(asset.filename) {
                if let known = newest[asset.filename], known.createdAt >= asset.createdAt { continue }
                newest[asset.filename] = asset
            }
        }
        for entry in gone {
            guard let asset = newest[entry.path] else {
                // Nothing of that name is uploaded any more (withdrawn elsewhere): nothing to do, nothing to recall.
                if !dryRun { try store.removeManifestEntry(path: entry.path) }
                continue
            }
            guard asset.id == entry.assetId else {
                outcome.kept.append(ScanProblem(path: entry.path, reason: "the newest uploaded asset of that name "
                    + "(\(asset.id)) was not pushed from this folder; not withdrawn"))
                continue
            }
            if !dryRun {
                try await client.withdrawAsset(database: database, id: asset.id)
                try store.recordWithdrawal(of: entry)
            }
            outcome.withdrawn.append(entry.path)
        }
        return outcome
    }
}

extension ConfinedFolder {
    public enum Presence: Equatable {
        /// Something is there under that name (a file, a link, a folder).
        case present
        /// Nothing is: the name or a folder on its way is missing.
        case gone
        /// It could not be told (a folder on the way is unreadable or a link), with why.
        case unknown(String)
    }

    /// Whether a name below the folder exists, looked at without following any link.
    func presence(of relative: String) -> Presence {
        guard var parent = try? openFolder("", create: false) else { return .unknown("cannot open \(path)") }
        let components = relative.split(separator: "/").map(String.init)
        for (index, component) in components.enumerated() {
            var info = stat()
            guard fstatat(parent.descriptor, component, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                return errno == ENOENT || errno == ENOTDIR ? .gone
                    : .unknown("cannot look at it: \(String(cString: strerror(errno)))")
            }
            if index == components.count - 1 { return .present }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                return info.st_mode & S_IFMT == S_IFLNK ? .unknown("a symbolic link is on its way; not followed") : .gone
            }
            let next = openat(parent.descriptor, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { return .unknown("cannot open its folder: \(String(cString: strerror(errno)))") }
            parent = OpenFolder(descriptor: next)
        }
        return .gone
    }
}
