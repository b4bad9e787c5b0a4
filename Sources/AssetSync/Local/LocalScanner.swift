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

    public init(path: String, size: Int64, mtimeNs: Int64, inode: Int64? = nil) {
        self.path = path
        self.size = size
        self.mtimeNs = mtimeNs
        self.inode = inode
    }
}

/// Something the scan could not take, with the reason.
public struct ScanProblem: Sendable, Equatable {
    public var path: String
    public var reason: String
}

/// Walks a folder with `readdir` and `lstat`, applying ``IgnoreRules``.
///
/// Symbolic links are not followed (a link could lead out of the folder or into a loop).
public struct LocalScanner: Sendable {
    public let root: String
    public var rules: IgnoreRules

    public init(root: String, rules: IgnoreRules) {
        self.root = root
        self.rules = rules
    }

    public struct Result: Sendable {
        public var files: [LocalFile] = []
        public var problems: [ScanProblem] = []
        public var skippedLinks = 0
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
        var pending = [start]
        while let folder = pending.popLast() {
            let absolute = folder.isEmpty ? root : root + "/" + folder
            try entering(folder)
            guard let dir = opendir(absolute) else {
                let reason = String(cString: strerror(errno))
                if folder.isEmpty { throw SyncError(kind: .localFolder, message: "cannot read \(root): \(reason)") }
                result.problems.append(ScanProblem(path: folder, reason: "cannot read folder: \(reason)"))
                continue
            }
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
            closedir(dir)
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
                guard lstat(absolute + "/" + name, &info) == 0 else {
                    result.problems.append(ScanProblem(path: relative, reason: String(cString: strerror(errno))))
                    continue
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    if !rules.ignoresFolder(relative) { pending.append(relative) }
                case S_IFREG:
                    if rules.ignoresFile(relative) { continue }
                    let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
                    result.files.append(LocalFile(path: relative, size: Int64(info.st_size), mtimeNs: mtime))
                case S_IFLNK:
                    if !rules.ignoresFile(relative) { result.skippedLinks += 1 }
                default:
                    continue
                }
            }
        }
        result.files.sort { $0.path < $1.path }
        result.rules = rules
        return result
    }

    /// The current size and modification time of one file, or nil if it is gone.
    public static func fileStatus(path: String) -> (size: Int64, mtimeNs: Int64)? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
