#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One inotify instance through Glibc: its watches, and a blocking read that ``close()`` ends.
///
/// Reads block in `poll` on the inotify descriptor and on a pipe; ``close()`` writes to the pipe,
/// so the reading thread wakes and returns nil instead of hanging in `read`.
///
/// Each read is a numbered *look*: it takes everything the kernel holds at the moment its number
/// is drawn. So a look numbered above ``looks`` (read at some moment) reports every event that
/// happened before that moment; ``requestLook()`` asks for one even when nothing new happens.
final class Inotify: Sendable {
    /// The events of one look.
    struct Batch: Sendable {
        var events: [Event]
        var look: UInt64
    }

    /// One event as the kernel reports it (`struct inotify_event`).
    struct Event: Sendable, Equatable {
        /// The watch it belongs to; -1 for `IN_Q_OVERFLOW`.
        var wd: Int32
        var mask: UInt32
        /// Pairs an `IN_MOVED_FROM` with its `IN_MOVED_TO`.
        var cookie: UInt32
        /// The entry's name within the watched folder; empty for events on the folder itself.
        var name: String

        func has(_ flag: Int32) -> Bool { mask & UInt32(bitPattern: flag) != 0 }
    }

    /// What a folder's watch reports: everything that can add, complete, move or remove a file.
    static let folderMask: UInt32 = UInt32(bitPattern: IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE
        | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

    private let descriptor: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let lookCount = Locked<UInt64>(0)
    private let stopped = Locked(false)

    init() throws {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else {
            let code = errno
            let hint = code == EMFILE
                ? " (the limit of inotify instances, fs.inotify.max_user_instances = \(Self.limit("max_user_instances")), "
                    + "is reached: raise it with sysctl)"
                : ""
            throw SyncError(kind: .localFolder, message: "cannot start inotify: \(String(cString: strerror(code)))\(hint)")
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            Glibc.close(fd)
            throw SyncError(kind: .localFolder, message: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // A full pipe already means a wake-up is pending: never block the writer.
        _ = fcntl(pipeEnds[1], F_SETFL, fcntl(pipeEnds[1], F_GETFL) | O_NONBLOCK)
        descriptor = fd
        wakeRead = pipeEnds[0]
        wakeWrite = pipeEnds[1]
    }

    deinit {
        Glibc.close(descriptor)
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Watches a folder; returns its watch descriptor, or nil when the folder is gone (or is not one).
    ///
    /// - Throws: ``SyncError`` `.localFolder` when the watch limit is reached (naming
    ///   `fs.inotify.max_user_watches`) or the folder cannot be read.
    func addWatch(_ path: String) throws -> Int32? {
        let wd = inotify_add_watch(descriptor, path, Self.folderMask)
        if wd >= 0 { return wd }
        if let error = Self.watchError(errno, path: path) { throw error }
        return nil
    }

    /// What `inotify_add_watch`'s failure means: nil when the folder is simply gone.
    static func watchError(_ code: Int32, path: String) -> SyncError? {
        switch code {
        case ENOENT, ENOTDIR:
            return nil
        case ENOSPC:
            return SyncError(kind: .localFolder, message: """
                cannot watch \(path): the inotify watch limit is reached (fs.inotify.max_user_watches = \
                \(limit("max_user_watches")), one watch per folder, shared by every program of this user); \
                raise it, e.g. `sysctl fs.inotify.max_user_watches=524288` (and in /etc/sysctl.d/ to keep it)
                """)
        default:
            return SyncError(kind: .localFolder, message: "cannot watch \(path): \(String(cString: strerror(code)))")
        }
    }

    func removeWatch(_ wd: Int32) {
        _ = inotify_rm_watch(descriptor, wd)
    }

    /// Looks started so far.
    var looks: UInt64 { lookCount.value }

    /// Blocks until events arrive or a look is requested; nil once ``close()`` was called.
    func read() -> Batch? {
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if fds[1].revents != 0 {
                var bytes = [UInt8](repeating: 0, count: 256)
                _ = Glibc.read(wakeRead, &bytes, bytes.count)
            }
            if stopped.value { return nil }
            if fds[0].revents & ~Int16(POLLIN) != 0 { return nil }
            if fds[0].revents == 0 && fds[1].revents == 0 { continue }
            break
        }
        // The number is drawn before draining: everything queued by now is in this look.
        let look = lookCount.update { count -> UInt64 in
            count += 1
            return count
        }
        var events: [Event] = []
        while let more = readAvailable() {
            events += more
        }
        return Batch(events: events, look: look)
    }

    /// The events the kernel holds now, or nil when it holds none.
    private func readAvailable() -> [Event]? {
        var fd = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&fd, 1, 0) > 0, fd.revents & Int16(POLLIN) != 0 else { return nil }
        // Room for many events at once: the kernel never splits one across reads.
        let capacity = 256 * 1024
        var buffer = [UInt8](repeating: 0, count: capacity)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, capacity) }
        guard count > 0 else { return nil }
        return Self.parse(buffer[..<count])
    }

    /// Wakes the reader for a look even if no event comes.
    func requestLook() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    /// Wakes the reader, which returns nil from then on.
    func close() {
        stopped.update { $0 = true }
        requestLook()
    }

    /// Splits a read's bytes into events (`wd`, `mask`, `cookie`, `len`, then `len` bytes of name).
    static func parse(_ bytes: ArraySlice<UInt8>) -> [Event] {
        var events: [Event] = []
        bytes.withUnsafeBytes { raw in
            var offset = 0
            let header = 16
            while offset + header <= raw.count {
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let cookie = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameBytes = raw[(offset + header)..<min(raw.count, offset + header + length)].prefix { $0 != 0 }
                // Names that are not UTF-8 are skipped, as the scanner skips them.
                if let name = String(validating: nameBytes, as: UTF8.self) {
                    events.append(Event(wd: wd, mask: mask, cookie: cookie, name: name))
                }
                offset += header + length
            }
        }
        return events
    }

    /// A limit from /proc/sys/fs/inotify/, as text ("?" if unreadable).
    static func limit(_ name: String) -> String {
        let text = try? String(contentsOfFile: "/proc/sys/fs/inotify/" + name, encoding: .utf8)
        return text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }
}
