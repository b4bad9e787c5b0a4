@testable import AssetSync
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The translation of raw inotify events into changes, fed by hand (no waiting on the kernel).
@Suite("inotify events → folder changes")
struct FolderWatcherTests {
    func event(_ wd: Int32, _ flags: Int32..., name: String = "", cookie: UInt32 = 0) -> Inotify.Event {
        Inotify.Event(wd: wd, mask: flags.reduce(UInt32(0)) { $0 | UInt32(bitPattern: $1) }, cookie: cookie, name: name)
    }

    /// A watcher on a scratch tree with `sub` watched; returns it with the root's and sub's descriptors.
    func watcher(_ scratch: Scratch) throws -> (FolderWatcher, root: Int32, sub: Int32) {
        let root = try scratch.folder("tree")
        _ = try scratch.folder("tree/sub")
        var watcher = try FolderWatcher(root: root)
        try watcher.watch("")
        try watcher.watch("sub")
        let rootWD = try #require(try watcher.inotify.addWatch(root))
        let subWD = try #require(try watcher.inotify.addWatch(root + "/sub"))
        return (watcher, rootWD, subWD)
    }

    @Test("file events become signals, with paths relative to the root")
    func files() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var (watcher, root, sub) = try watcher(scratch)
        #expect(watcher.count == 2)
        let changes = watcher.translate([
            event(root, IN_CREATE, name: "a.bin"),
            event(root, IN_MODIFY, name: "a.bin"),
            event(root, IN_CLOSE_WRITE, name: "a.bin"),
            event(sub, IN_MOVED_TO, name: "b.bin", cookie: 7),
            event(sub, IN_ATTRIB, name: "b.bin"),
            event(sub, IN_DELETE, name: "c.bin"),
            event(root, IN_MOVED_FROM, name: "d.bin", cookie: 8),
        ])
        #expect(changes == [.file("a.bin", .seen), .file("a.bin", .written), .file("a.bin", .closedAfterWrite),
                            .file("sub/b.bin", .movedIn), .file("sub/b.bin", .seen), .file("sub/c.bin", .removed),
                            .file("d.bin", .removed)])
    }

    @Test("folders come and go; overflow and the root's removal are reported; unknown watches ignored")
    func folders() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var (watcher, root, sub) = try watcher(scratch)
        let changes = watcher.translate([
            event(root, IN_CREATE, IN_ISDIR, name: "new"),
            event(sub, IN_MOVED_TO, IN_ISDIR, name: "moved-in"),
            event(root, IN_MOVED_FROM, IN_ISDIR, name: "old"),
            event(sub, IN_DELETE, IN_ISDIR, name: "gone"),
            event(-1, IN_Q_OVERFLOW),
            event(9999, IN_CLOSE_WRITE, name: "stale.bin"),
            event(root, IN_DELETE_SELF),
        ])
        #expect(changes == [.folderAppeared("new"), .folderAppeared("sub/moved-in"), .folderGone("old"),
                            .folderGone("sub/gone"), .overflow, .rootGone])
        // Once the kernel drops a watch, its events are no longer mapped.
        #expect(watcher.translate([event(sub, IN_IGNORED), event(sub, IN_CLOSE_WRITE, name: "late.bin")]).isEmpty)
        #expect(watcher.count == 1)
    }

    @Test("forgetting a folder drops its watches and those under it")
    func forget() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        _ = try scratch.folder("tree/sub/deep")
        _ = try scratch.folder("tree/subway")
        var watcher = try FolderWatcher(root: scratch.path("tree"))
        for folder in ["", "sub", "sub/deep", "subway"] { try watcher.watch(folder) }
        #expect(watcher.count == 4)
        watcher.forget(under: "sub")
        #expect(watcher.count == 2)
        // A folder that vanished is no error: there is nothing to watch.
        try watcher.watch("nowhere")
        #expect(watcher.count == 2)
    }

    @Test("the watch limit (ENOSPC) is an error that names fs.inotify.max_user_watches; a vanished folder is not")
    func watchLimit() throws {
        let error = try #require(Inotify.watchError(ENOSPC, path: "/srv/inbox/deep"))
        #expect(error.kind == .localFolder)
        // The limit as the kernel reports it, read here and not through the code under test.
        let limit = try String(contentsOfFile: "/proc/sys/fs/inotify/max_user_watches", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(limit) != nil)
        #expect(error.message.contains("fs.inotify.max_user_watches = \(limit)"))
        #expect(error.message.contains("/srv/inbox/deep"))
        #expect(Inotify.watchError(ENOENT, path: "/gone") == nil)
        #expect(Inotify.watchError(ENOTDIR, path: "/a-file") == nil)
        #expect(Inotify.watchError(EACCES, path: "/locked")?.message.contains("Permission denied") == true)
    }

    @Test("a real look: events written before a look's number is drawn are in that look")
    func looks() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let root = try scratch.folder("tree")
        var watcher = try FolderWatcher(root: root)
        try watcher.watch("")
        let before = watcher.inotify.looks
        try write(Data("x".utf8), to: root + "/x.bin")
        let batch = try #require(watcher.inotify.read())
        #expect(batch.look == before + 1)
        #expect(watcher.translate(batch.events).contains(.file("x.bin", .closedAfterWrite)))
        // A requested look comes back even with nothing new, and empty.
        watcher.inotify.requestLook()
        let empty = try #require(watcher.inotify.read())
        #expect(empty.look == before + 2)
        #expect(empty.events.isEmpty)
        watcher.inotify.close()
        #expect(watcher.inotify.read() == nil)
    }
}
