#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What happened in the watched tree, in paths relative to its root.
enum FolderChange: Sendable, Equatable {
    /// Something happened to a file.
    case file(String, SettleTracker.Signal)
    /// A folder was created or moved in: watch it and scan it (files may have landed before its watch).
    case folderAppeared(String)
    /// A folder was deleted or moved away: forget its watches and its files.
    case folderGone(String)
    /// The kernel's queue overflowed and events were lost: scan everything.
    case overflow
    /// The watched folder itself was deleted or moved.
    case rootGone
}

/// The watches of one tree: one inotify watch per folder, kept in step as folders come and go, and
/// the translation of raw events into ``FolderChange``s.
///
/// Owned by the watch service's control loop; the reading thread only hands over raw events.
struct FolderWatcher {
    let inotify: Inotify
    let root: String
    private var folderByWatch: [Int32: String] = [:]
    private var watchByFolder: [String: Int32] = [:]

    init(root: String) throws {
        self.root = root
        inotify = try Inotify()
    }

    /// Folders watched.
    var count: Int { watchByFolder.count }

    /// Watches a folder (relative, "" for the root). Watching a folder again is harmless: the
    /// kernel hands back the same descriptor.
    ///
    /// - Throws: ``SyncError`` when the watch limit is reached.
    mutating func watch(_ folder: String) throws {
        guard let wd = try inotify.addWatch(folder.isEmpty ? root : root + "/" + folder) else { return }
        if let previous = folderByWatch[wd], previous != folder { watchByFolder[previous] = nil }
        folderByWatch[wd] = folder
        watchByFolder[folder] = wd
    }

    /// Drops the watches of a folder and of everything under it.
    mutating func forget(under folder: String) {
        let prefix = folder + "/"
        for (path, wd) in watchByFolder where path == folder || path.hasPrefix(prefix) {
            watchByFolder[path] = nil
            folderByWatch[wd] = nil
            inotify.removeWatch(wd)
        }
    }

    /// Turns raw events into changes. A folder moved within the tree arrives as gone (its old path)
    /// and appeared (its new one): its files have new names, so they are new files remotely.
    mutating func translate(_ events: [Inotify.Event]) -> [FolderChange] {
        var changes: [FolderChange] = []
        for event in events {
            if event.has(IN_Q_OVERFLOW) {
                changes.append(.overflow)
                continue
            }
            if event.has(IN_IGNORED) {
                // The watch is gone (its folder was deleted, or we removed it).
                if let folder = folderByWatch.removeValue(forKey: event.wd), watchByFolder[folder] == event.wd {
                    watchByFolder[folder] = nil
                }
                continue
            }
            guard let folder = folderByWatch[event.wd] else { continue }
            if event.name.isEmpty {
                if folder.isEmpty && (event.has(IN_DELETE_SELF) || event.has(IN_MOVE_SELF)) { changes.append(.rootGone) }
                continue
            }
            let path = folder.isEmpty ? event.name : folder + "/" + event.name
            if event.has(IN_ISDIR) {
                if event.has(IN_CREATE) || event.has(IN_MOVED_TO) {
                    changes.append(.folderAppeared(path))
                } else if event.has(IN_DELETE) || event.has(IN_MOVED_FROM) {
                    changes.append(.folderGone(path))
                }
                continue
            }
            if event.has(IN_CLOSE_WRITE) {
                changes.append(.file(path, .closedAfterWrite))
            } else if event.has(IN_MOVED_TO) {
                changes.append(.file(path, .movedIn))
            } else if event.has(IN_DELETE) || event.has(IN_MOVED_FROM) {
                changes.append(.file(path, .removed))
            } else if event.has(IN_MODIFY) {
                changes.append(.file(path, .written))
            } else if event.has(IN_CREATE) || event.has(IN_ATTRIB) {
                changes.append(.file(path, .seen))
            }
        }
        return changes
    }

    /// Reads events on a thread of its own until ``Inotify/close()``, handing each look's batch
    /// (empty ones too: they mark that everything before them was seen) to `deliver`.
    func startReading(_ deliver: @escaping @Sendable (Inotify.Batch) -> Void) {
        let inotify = self.inotify
        let thread = Thread {
            while let batch = inotify.read() {
                deliver(batch)
            }
        }
        thread.name = "assets-inotify"
        thread.start()
    }
}
