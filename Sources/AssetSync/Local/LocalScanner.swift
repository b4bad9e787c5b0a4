#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A regular file found under the folder being synced.
public struct LocalFile: Sendable, Equatable {
    /// Relative to the folder, with `/`.
    public var path: String
    public var size: Int64
    /// Modification time in nanoseconds since 1970.
    public var mtimeNs: Int64
    /// The inode number when the walk read it (a file replaced by another one with the same size
    /// and time is still seen as changed).
    public var inode: Int64?
    /// The status-change time in nanoseconds: a user can set the modification time back, never this one, so
    /// `--checksum`'s cache of hashes also keys on it.
    public var ctimeNs: Int64?

    public init(path: String, size: Int64, mtimeNs: Int64, inode: Int64? = nil, ctimeNs: Int64? = nil) {
        self.path = path
        self.size = size
        self.mtimeNs = mtimeNs
        self.inode = inode
        self.ctimeNs = ctimeNs
    }

    /// The stamp `stat` gives a regular file.
    init(path: String, stat info: Glibc.stat) {
        self.init(path: path, size: Int64(info.st_size),
                  mtimeNs: Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec),
                  inode: Int64(bitPattern: UInt64(info.st_ino)),
                  ctimeNs: Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec))
    }
}

/// Something the scan could not take, with the reason.
public struct ScanProblem: Sendable, Equatable {
    public var path: String
    public var reason: String
}

/// Walks a folder with `readdir` and `lstat`, applying ``IgnoreRules``.
///
/// Symbolic links are not followed by default (a link could lead out of the folder or into a loop): each is
/// listed in ``Result/skippedLinks``, and every folder is opened from the root one component at a time with
/// `O_NOFOLLOW`, so a folder swapped for a link after it was seen is not listed through the link. With
/// `followLinks` (`--follow-symlinks`), a link whose target (resolved fully) stays inside the root is
/// followed: a file is taken under the link's name, a folder is walked once; a link leading outside is skipped.
public struct LocalScanner: Sendable {
    public let root: String
    public var rules: IgnoreRules
    public var followLinks: Bool

    public init(root: String, rules: IgnoreRules, followLinks: Bool = false) {
        self.root = root
        self.rules = rules
        self.followLinks = followLinks
    }

    public struct Result: Sendable {
        public var files: [LocalFile] = []
        public var problems: [ScanProblem] = []
        /// Links not followed, relative to the root, with why.
        public var skippedLinks: [ScanProblem] = []
        /// The rules with the `.assetsignore` files found on the way.
        public var rules = IgnoreRules()
    }

    public func scan() throws -> Result {
        try scan(under: "")
    }

    /// Scans one folder of the tree (relative, "" for the root), with paths relative to the root.
    ///
    /// `entering` is called with each folder before it is listed: a watcher adds its watch there,
    /// so that a file created during the scan is either listed or reported by the watch.
    public func scan(under start: String, entering: (String) throws -> Void = { _ in }) throws -> Result {
        var rules = self.rules
        var result = Result()
        var rootStat = Glibc.stat()
        guard lstat(root, &rootStat) == 0, (rootStat.st_mode & S_IFMT) == S_IFDIR else {
            throw SyncError(kind: .localFolder, message: "\(root) is not a folder")
        }
        let confined = try ConfinedFolder(path: root, create: false)
        let realRoot = followLinks ? Self.realPath(root) : nil
        // Each folder to walk with the real paths of the folders above it: a link back up one of them is a loop.
        var pending: [(folder: String, above: Set<String>)] = [(start, [])]
        while let next = pending.popLast() {
            let (folder, above) = next
            let absolute = folder.isEmpty ? root : root + "/" + folder
            var below = above
            if let realRoot {
                guard let real = Self.realPath(absolute), real == realRoot || real.hasPrefix(realRoot + "/") else { continue }
                guard !above.contains(real) else {
                    result.skippedLinks.append(ScanProblem(path: folder, reason: "a symbolic link back to a folder above it (a loop); not followed"))
                    continue
                }
                below.insert(real)
            }
            if !followLinks && !folder.isEmpty {
                // lstat before the watch: a folder swapped for a link right after it appeared is not watched through it.
                var info = Glibc.stat()
                guard lstat(absolute, &info) == 0 else {
                    result.problems.append(ScanProblem(path: folder, reason: "cannot read folder: \(String(cString: strerror(errno)))"))
                    continue
                }
                if (info.st_mode & S_IFMT) == S_IFLNK {
                    result.skippedLinks.append(ScanProblem(path: folder, reason: Self.replacedFolder))
                    continue
                }
                guard (info.st_mode & S_IFMT) == S_IFDIR else { continue }
            }
            try entering(folder)
            let opened: OpaquePointer?
            if followLinks {
                opened = opendir(absolute)
            } else {
                do {
                    let handle = try confined.openFolder(folder, create: false)
                    let descriptor = dup(handle.descriptor)
                    opened = descriptor >= 0 ? fdopendir(descriptor) : nil
                    if opened == nil, descriptor >= 0 { close(descriptor) }
                } catch {
                    if folder.isEmpty { throw error }
                    if error.message.contains("symbolic link") {
                        result.skippedLinks.append(ScanProblem(path: folder, reason: Self.replacedFolder))
                    } else {
                        result.problems.append(ScanProblem(path: folder, reason: "cannot read folder: \(error.message)"))
                    }
                    continue
                }
            }
            guard let dir = opened else {
                let reason = String(cString: strerror(errno))
                if folder.isEmpty { throw SyncError(kind: .localFolder, message: "cannot read \(root): \(reason)") }
                result.problems.append(ScanProblem(path: folder, reason: "cannot read folder: \(reason)"))
                continue
            }
            let directory = dirfd(dir)
            var names: [String] = []
            var invalidNames = 0
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                    let bytes = raw.prefix { $0 != 0 }
                    return String(validating: bytes, as: UTF8.self)
                }
                guard let name else {
                    invalidNames += 1
                    continue
                }
                if name == "." || name == ".." { continue }
                names.append(name)
            }
            defer { closedir(dir) }
            if invalidNames > 0 {
                result.problems.append(ScanProblem(path: folder.isEmpty ? "." : folder,
                                                   reason: "\(invalidNames) name(s) are not valid UTF-8 and were skipped"))
            }
            if names.contains(IgnoreRules.fileName),
               let contents = try? String(contentsOfFile: absolute + "/" + IgnoreRules.fileName, encoding: .utf8) {
                rules.addIgnoreFile(contents: contents, folder: folder)
            }
            for name in names.sorted(by: >) {
                let relative = folder.isEmpty ? name : folder + "/" + name
                var info = Glibc.stat()
                guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                    result.problems.append(ScanProblem(path: relative, reason: String(cString: strerror(errno))))
                    continue
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    if !rules.ignoresFolder(relative) { pending.append((relative, below)) }
                case S_IFREG:
                    if rules.ignoresFile(relative) { continue }
                    result.files.append(LocalFile(path: relative, stat: info))
                case S_IFLNK:
                    guard !rules.ignoresFile(relative) else { continue }
                    guard let realRoot else {
                        result.skippedLinks.append(ScanProblem(path: relative, reason: "a symbolic link; not followed"))
                        continue
                    }
                    if followLink(relative, absolute: absolute + "/" + name, realRoot: realRoot, rules: rules, into: &result) {
                        pending.append((relative, below))
                    }
                default:
                    continue
                }
            }
        }
        result.files.sort { $0.path < $1.path }
        result.rules = rules
        return result
    }

    /// Takes what a link leads to when its target stays inside the root: a regular file under the link's name;
    /// returns true for a folder to walk; anything else is skipped with the reason.
    private func followLink(_ relative: String, absolute: String, realRoot: String, rules: IgnoreRules,
                            into result: inout Result) -> Bool {
        guard let target = Self.realPath(absolute) else {
            result.skippedLinks.append(ScanProblem(path: relative, reason: "a broken symbolic link"))
            return false
        }
        guard target.hasPrefix(realRoot + "/") || target == realRoot else {
            result.skippedLinks.append(ScanProblem(path: relative, reason: "a symbolic link leading outside the folder; not followed"))
            return false
        }
        var info = Glibc.stat()
        guard stat(target, &info) == 0 else {
            result.skippedLinks.append(ScanProblem(path: relative, reason: "a broken symbolic link"))
            return false
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            result.files.append(LocalFile(path: relative, stat: info))
        case S_IFDIR:
            return !rules.ignoresFolder(relative)
        default:
            result.skippedLinks.append(ScanProblem(path: relative, reason: "a symbolic link to neither a file nor a folder"))
        }
        return false
    }

    /// Why a folder that turned into a link between being seen and being walked is skipped.
    public static let replacedFolder = "a folder replaced by a symbolic link; not followed"

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The current size and modification time of one file, or nil if it is gone.
    /// With `followingLink` (`--follow-symlinks`), a link to a regular file counts as that file.
    public static func fileStatus(path: String, followingLink: Bool = false) -> (size: Int64, mtimeNs: Int64)? {
        var info = Glibc.stat()
        guard (followingLink ? stat(path, &info) : lstat(path, &info)) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return nil
        }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
