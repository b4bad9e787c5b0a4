#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A folder that files are written into without ever leaving it.
///
/// The folder is opened once by the path the user named (that path may be or hold a link: the user chose it).
/// Everything below it is reached from that descriptor one component at a time with `O_NOFOLLOW`, so a symbolic
/// link planted under it (a folder on the way, a `NAME.part`) is refused or removed, never followed, and no folder
/// is ever created outside it.
///
/// ```swift
/// let folder = try ConfinedFolder(path: "out", create: true)
/// let part = try folder.openPart(for: "photos/cat.jpg", resume: true)   // out/photos/cat.jpg.part, 0600
/// // ... write into part.descriptor ...
/// try part.commit()                                                    // fsync, umask mode, rename, fsync folder
/// ```
public final class ConfinedFolder: Sendable {
    /// The path the folder was opened by, for messages.
    public let path: String
    private let root: Int32

    /// Opens the folder; with `create`, makes it (and its missing parents) first.
    public init(path: String, create: Bool) throws(SyncError) {
        let path = path.isEmpty ? "." : path
        if create {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw SyncError(kind: .localFolder, message: "cannot create the folder \(path): \(error.localizedDescription)")
            }
        }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.error("cannot open the folder \(path)") }
        self.path = path
        self.root = descriptor
    }

    deinit { close(root) }

    /// A folder below this one (`""` is this one), each component opened with `O_NOFOLLOW | O_DIRECTORY`;
    /// with `create`, missing components are made with `mkdirat` inside the one before.
    func openFolder(_ relative: String, create: Bool) throws(SyncError) -> OpenFolder {
        var current = OpenFolder(descriptor: dup(root))
        guard current.descriptor >= 0 else { throw Self.error("cannot open the folder \(path)") }
        var walked: [Substring] = []
        for component in relative.split(separator: "/") {
            walked.append(component)
            let shown = walked.joined(separator: "/")
            guard component != ".", component != ".." else {
                throw SyncError(kind: .localFolder, message: "\(shown) in \(path): '.' and '..' are not followed")
            }
            let name = String(component)
            var next = openat(current.descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, create {
                if mkdirat(current.descriptor, name, 0o777) != 0, errno != EEXIST {
                    throw Self.error("cannot create the folder \(shown) in \(path)")
                }
                next = openat(current.descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard next >= 0 else {
                let code = errno
                if Self.kind(of: name, in: current.descriptor) == S_IFLNK {
                    throw SyncError(kind: .localFolder,
                                    message: "\(shown) in \(path) is a symbolic link; not followed (it could lead outside the folder)")
                }
                errno = code
                throw Self.error("cannot open the folder \(shown) in \(path)")
            }
            current = OpenFolder(descriptor: next)
        }
        return current
    }

    /// Opens `RELATIVE.part` for writing, making the parent folders inside this one.
    ///
    /// A new part is created with `O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600. An existing part that is a regular
    /// file with one link is reopened (with `resume`) to be continued; anything else in its place (a symbolic
    /// link, a file hard-linked elsewhere, a part that is not to be resumed) is removed with `unlinkat` first,
    /// never opened: a link planted as `NAME.part` must not carry the download out of the folder.
    public func openPart(for relative: String, resume: Bool) throws(SyncError) -> PartFile {
        let (parent, name) = Self.split(relative)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw SyncError(kind: .localFolder, message: "\"\(relative)\" does not name a file in \(path)")
        }
        let folder = try openFolder(parent, create: true)
        let partName = name + ".part"
        var info = stat()
        if fstatat(folder.descriptor, partName, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR {
                throw SyncError(kind: .localFolder, message: "\(relative).part in \(path) is a folder; remove it")
            }
            if resume, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1,
               let reopened = Self.reopen(partName, in: folder.descriptor, expecting: info) {
                return PartFile(folder: folder, name: name, relative: relative, descriptor: reopened)
            }
            if unlinkat(folder.descriptor, partName, 0) != 0, errno != ENOENT {
                throw Self.error("cannot remove \(relative).part in \(path)")
            }
        }
        let created = openat(folder.descriptor, partName, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard created >= 0 else { throw Self.error("cannot create \(relative).part in \(path)") }
        return PartFile(folder: folder, name: name, relative: relative, descriptor: created)
    }

    /// `FILE.part` beside a file the user named (`-o FILE`): its folder is opened as named and not created.
    public static func openPart(beside path: String, resume: Bool) throws(SyncError) -> PartFile {
        let (parent, name) = split(path)
        let folder = parent.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : parent
        return try ConfinedFolder(path: folder, create: false).openPart(for: name, resume: resume)
    }

    /// Size and modification time of a regular file below the folder, reached without following any link;
    /// nil when it is missing, is not a regular file, or a link is on the way.
    public func status(of relative: String) -> (size: Int64, mtimeNs: Int64)? {
        let (parent, name) = Self.split(relative)
        guard !name.isEmpty, let folder = try? openFolder(parent, create: false) else { return nil }
        var info = stat()
        guard fstatat(folder.descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return nil
        }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    /// The full stamp of a regular file below the folder (size, times, inode), without following links.
    public func stamp(of relative: String) -> LocalFile? {
        let (parent, name) = Self.split(relative)
        guard !name.isEmpty, let folder = try? openFolder(parent, create: false) else { return nil }
        var info = stat()
        guard fstatat(folder.descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return nil
        }
        return LocalFile(path: relative, stat: info)
    }

    /// Opens a regular file below the folder for reading; no link is followed, on the way or at the end.
    public func openForReading(_ relative: String) throws(SyncError) -> Int32 {
        let (parent, name) = Self.split(relative)
        let folder = try openFolder(parent, create: false)
        // O_NONBLOCK: a FIFO in the file's place must not hang the open.
        let descriptor = openat(folder.descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.error("cannot open \(relative) in \(path)") }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw SyncError(kind: .localFolder, message: "\(relative) in \(path) is not a regular file")
        }
        return descriptor
    }

    /// Removes a file below the folder (a link there is removed itself, never followed).
    public func remove(_ relative: String) {
        let (parent, name) = Self.split(relative)
        guard let folder = try? openFolder(parent, create: false) else { return }
        unlinkat(folder.descriptor, name, 0)
    }

    /// Opens an existing part again, only if it is still the regular file just looked at.
    private static func reopen(_ name: String, in folder: Int32, expecting expected: stat) -> Int32? {
        // O_NONBLOCK: if the name were swapped for a FIFO in between, opening it must not hang.
        let descriptor = openat(folder, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1,
              info.st_ino == expected.st_ino, info.st_dev == expected.st_dev,
              fcntl(descriptor, F_SETFL, 0) == 0, fchmod(descriptor, 0o600) == 0
        else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    private static func kind(of name: String, in folder: Int32) -> mode_t? {
        var info = stat()
        return fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info.st_mode & S_IFMT : nil
    }

    /// `("a/b", "c")` for `"a/b/c"`, `("", "c")` for `"c"`.
    static func split(_ relative: String) -> (parent: String, name: String) {
        guard let slash = relative.lastIndex(of: "/") else { return ("", relative) }
        return (String(relative[..<slash]), String(relative[relative.index(after: slash)...]))
    }

    static func error(_ message: String) -> SyncError {
        SyncError(kind: .localFolder, message: "\(message): \(String(cString: strerror(errno)))")
    }

    /// The mode a new file gets under the process's umask (`0666 & ~umask`).
    public static let fileMode: mode_t = 0o666 & ~currentUmask()

    /// Reads the umask from `/proc/self/status` (Linux 4.7+), which leaves it untouched; otherwise sets and
    /// restores it once, at the first use.
    private static func currentUmask() -> mode_t {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
           let value = mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) {
            return value
        }
        let previous = umask(0o022)
        umask(previous)
        return previous
    }
}

/// An open folder descriptor, closed with the object.
final class OpenFolder {
    let descriptor: Int32
    init(descriptor: Int32) { self.descriptor = descriptor }
    deinit { if descriptor >= 0 { close(descriptor) } }
}

/// A `NAME.part` being written inside a ``ConfinedFolder``, 0600 until ``commit(modified:)`` puts it in place.
public final class PartFile {
    /// Open for reading and writing; hand it to the engine as a download destination.
    public let descriptor: Int32
    /// The final file's path relative to the confined folder, for messages.
    public let relative: String
    private let folder: OpenFolder
    private let name: String
    private var committed = false

    init(folder: OpenFolder, name: String, relative: String, descriptor: Int32) {
        self.folder = folder
        self.name = name
        self.relative = relative
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Bytes in the part now.
    public var size: Int64 {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Size and modification time of the part now.
    public var status: (size: Int64, mtimeNs: Int64) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return (0, 0) }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    /// MD5 and SHA-256 of what the part holds, read through its descriptor.
    public func digest() throws(SyncError) -> FileDigest {
        do { return try FileDigest.of(descriptor: descriptor) } catch {
            throw SyncError(kind: .localFolder, message: "cannot read \(relative).part: \(error.localizedDescription)")
        }
    }

    /// Empties the part (to start a download over).
    public func truncate() throws(SyncError) {
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw ConfinedFolder.error("cannot empty \(relative).part")
        }
    }

    /// Puts the complete part in place: the user's umask mode (and `modified`, if given), `fsync`, `renameat`
    /// over `NAME` (a link there is replaced, not followed), then `fsync` of the folder so the rename survives
    /// a crash.
    public func commit(modified: Date? = nil) throws(SyncError) {
        guard fchmod(descriptor, ConfinedFolder.fileMode) == 0 else {
            throw ConfinedFolder.error("cannot set the mode of \(relative).part")
        }
        // A date from a server: outside what `Int` holds it is not applied rather than trapping.
        if let modified, let seconds = Int(exactly: modified.timeIntervalSince1970.rounded(.down)) {
            let fraction = modified.timeIntervalSince1970 - modified.timeIntervalSince1970.rounded(.down)
            let nanoseconds = max(0, min(999_999_999, Int(fraction * 1e9)))
            // The access time is left alone: UTIME_OMIT, (1 << 30) - 2 in <sys/stat.h>.
            var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
            guard futimens(descriptor, &times) == 0 else {
                throw ConfinedFolder.error("cannot set the modification time of \(relative).part")
            }
        }
        guard fsync(descriptor) == 0 else { throw ConfinedFolder.error("cannot sync \(relative).part") }
        guard renameat(folder.descriptor, name + ".part", folder.descriptor, name) == 0 else {
            throw ConfinedFolder.error("cannot move \(relative).part into place")
        }
        committed = true
        guard fsync(folder.descriptor) == 0 else { throw ConfinedFolder.error("cannot sync the folder of \(relative)") }
    }

    /// Removes the part (nothing once committed).
    public func discard() {
        guard !committed else { return }
        unlinkat(folder.descriptor, name + ".part", 0)
    }
}
