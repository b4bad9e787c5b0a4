#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What `pull --delete` removes: files an earlier pull wrote (the manifest says so) whose filename has no
/// uploaded asset any more, unchanged since that pull, inside the filters.
public struct PullDeletion: Sendable, Equatable {
    /// Files removed (or, in a dry run, to remove).
    public var removed: [String] = []
    /// Candidates left in place, with why.
    public var kept: [ScanProblem] = []
    /// Why nothing was removed at all (a failed job, an incomplete listing), or nil.
    public var refusal: String?

    public init() {}

    /// The candidates of a listing: entries written by a pull, gone from `remotePaths`, not filtered out.
    static func candidates(manifest: [String: ManifestEntry], remotePaths: Set<String>,
                           include: [String], exclude: [String]) -> [ManifestEntry] {
        let filters = IgnoreRules(include: include, exclude: exclude)
        let filtered = !(include.isEmpty && exclude.isEmpty)
        return manifest.values
            .filter { $0.origin == .pull && !remotePaths.contains($0.path) && !(filtered && filters.ignoresFile($0.path)) }
            .sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// Removes each candidate that is still the file the pull wrote (a regular file with the recorded size and
    /// time), through the confined folder: `unlinkat` relative to its parent's descriptor, no link followed.
    /// A file missing already is forgotten; a changed one is kept. With `dryRun`, only says what would go.
    static func apply(_ candidates: [ManifestEntry], root: ConfinedFolder, store: StateStore,
                      dryRun: Bool) throws -> PullDeletion {
        var outcome = PullDeletion()
        for entry in candidates {
            switch root.removeFile(entry.path, ifUnchangedSince: (entry.size, entry.mtimeNs), dryRun: dryRun) {
            case .removed:
                if !dryRun { try store.removeManifestEntry(path: entry.path) }
                outcome.removed.append(entry.path)
            case .missing:
                if !dryRun { try store.removeManifestEntry(path: entry.path) }
            case .kept(let reason):
                outcome.kept.append(ScanProblem(path: entry.path, reason: reason))
            }
        }
        return outcome
    }
}

extension Puller {
    /// Pulls, then (only when the listing was read whole and no file failed) removes the local files an
    /// earlier pull wrote whose assets are no longer uploaded.
    ///
    /// - Throws: what the pull throws (an unreadable listing among them); then nothing was removed.
    public func pullDeleting() async throws -> (summary: SyncSummary, deletion: PullDeletion) {
        let ran = try await pullReturningPlan()
        var deletion = PullDeletion()
        if ran.summary.failed > 0 {
            deletion.refusal = "\(ran.summary.failed) file(s) failed; local files are only removed after a pull "
                + "in which every file succeeded"
            return (ran.summary, deletion)
        }
        let candidates = PullDeletion.candidates(manifest: try store.manifest(), remotePaths: ran.plan.remotePaths,
                                                 include: options.include, exclude: options.exclude)
        deletion = try PullDeletion.apply(candidates, root: try ConfinedFolder(path: folder, create: false), store: store,
                                          dryRun: false)
        return (ran.summary, deletion)
    }

    /// What `pull --delete` would remove if a pull now read the same listing and every file succeeded.
    public func deletionPlan(_ plan: PullPlan) throws -> PullDeletion {
        let candidates = PullDeletion.candidates(manifest: try store.manifest(), remotePaths: plan.remotePaths,
                                                 include: options.include, exclude: options.exclude)
        guard let root = try? ConfinedFolder(path: folder, create: false) else { return PullDeletion() }
        return try PullDeletion.apply(candidates, root: root, store: store, dryRun: true)
    }
}

extension ConfinedFolder {
    public enum Removal: Equatable {
        case removed
        case missing
        case kept(String)
    }

    /// Removes a regular file below the folder if it still has `stamp`'s size and modification time; nothing on
    /// the way or at the end is followed. With `dryRun`, checks the same and removes nothing.
    func removeFile(_ relative: String, ifUnchangedSince stamp: (size: Int64, mtimeNs: Int64),
                    dryRun: Bool) -> Removal {
        let (parent, name) = Self.split(relative)
        let folder: OpenFolder
        do { folder = try openFolder(parent, create: false) } catch {
            if error.message.contains(String(cString: strerror(ENOENT))) { return .missing }
            return .kept(error.message)
        }
        var info = stat()
        guard fstatat(folder.descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            return errno == ENOENT ? .missing : .kept("cannot look at it: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return .kept("it is no longer a regular file") }
        let mtimeNs = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        guard Int64(info.st_size) == stamp.size, mtimeNs == stamp.mtimeNs else {
            return .kept("changed since the pull wrote it")
        }
        if dryRun { return .removed }
        guard unlinkat(folder.descriptor, name, 0) == 0 else {
            return errno == ENOENT ? .missing : .kept("cannot remove it: \(String(cString: strerror(errno)))")
        }
        return .removed
    }
}
