/// A file's size and modification time: what tells whether it changed.
public struct FileStamp: Sendable, Equatable {
    public var size: Int64
    /// Modification time in nanoseconds since 1970.
    public var mtimeNs: Int64

    public init(size: Int64, mtimeNs: Int64) {
        self.size = size
        self.mtimeNs = mtimeNs
    }

    /// The stamp of the file at `path` now, or nil when there is no regular file there.
    public static func of(path: String) -> FileStamp? {
        LocalScanner.fileStatus(path: path).map { FileStamp(size: $0.size, mtimeNs: $0.mtimeNs) }
    }

    var mtimeSeconds: Double { Double(mtimeNs) / 1e9 }
}

/// Decides when a file in a watched folder is complete, so that it is never uploaded half-way.
///
/// A file is complete once it has been closed after writing (`IN_CLOSE_WRITE`) or renamed into the
/// folder (`IN_MOVED_TO`, the atomic way to publish a file), provided no write followed; or once its
/// size and modification time have stayed the same for the settle window (a writer that keeps the
/// file open, a file found by a scan). "No write followed" needs care, since events are handled a
/// little after they happen: a writer that creates a file and reopens it at once (`touch`, an
/// atomic create) has written again by the time its close is handled, and that write's event is
/// still on its way. So a close waits for a *barrier*: the number of a later look at the event
/// queue (``Inotify/looks``), which holds every event that happened before the close was handled;
/// once that look is handled and the file's stamp is the one read at the close, it is complete. An
/// empty file closed or renamed in settles like a written one: it is most often about to be written.
///
/// Pure logic: the caller passes the time, the looks handled and the stamps it read, so tests drive
/// it without I/O.
///
/// ```swift
/// var tracker = SettleTracker(settle: 2)
/// tracker.record(.closedAfterWrite, path: "a.bin", stamp: stamp, now: now, barrier: looks + 1)  // .waiting
/// tracker.due(now: now, handled: looks + 1) { FileStamp.of(path: root + "/" + $0) }             // ["a.bin"]
/// ```
public struct SettleTracker: Sendable {
    /// What was seen happen to a file.
    public enum Signal: Sendable, Equatable {
        /// Bytes were written (`IN_MODIFY`): the content changed just now.
        case written
        /// Created, or its attributes changed (`IN_CREATE`, `IN_ATTRIB`), or found by a scan: it may
        /// have been complete for a while, as its modification time tells.
        case seen
        /// Closed after writing (`IN_CLOSE_WRITE`).
        case closedAfterWrite
        /// Renamed into the folder or within it (`IN_MOVED_TO`).
        case movedIn
        /// Deleted, or moved away.
        case removed
    }

    /// What the caller does with the file after a signal.
    public enum Decision: Sendable, Equatable {
        /// Complete: hand it over for upload.
        case ready
        /// Not yet: ``due(now:handled:stamp:)`` will say when it is ready.
        case waiting
        /// Gone: nothing to do.
        case forgotten
    }

    private struct Pending: Sendable {
        var stamp: FileStamp
        /// Since when the stamp is known not to have changed.
        var since: Double
        /// For a closed file: the look that must have been handled; nil while it settles by time.
        var barrier: UInt64?
    }

    /// Seconds a file's stamp must stay the same to count as complete.
    public let settle: Double
    private var pending: [String: Pending] = [:]

    public init(settle: Double) {
        self.settle = max(0, settle)
    }

    /// Files not complete yet.
    public var count: Int { pending.count }

    /// Closed files waiting for their barrier.
    public var closedCount: Int { pending.values.count(where: { $0.barrier != nil }) }

    public func isSettling(_ path: String) -> Bool { pending[path] != nil }

    /// Records a signal for a file, with its stamp read just after the signal (nil if it is gone),
    /// the wall-clock time in seconds since 1970 (the clock of modification times), and for a close
    /// or a rename in, the look that will hold every event before now.
    @discardableResult
    public mutating func record(_ signal: Signal, path: String, stamp: FileStamp?, now: Double,
                                barrier: UInt64 = 0) -> Decision {
        guard let stamp, signal != .removed else {
            pending[path] = nil
            return .forgotten
        }
        switch signal {
        case .closedAfterWrite where stamp.size == 0, .movedIn where stamp.size == 0, .written:
            pending[path] = Pending(stamp: stamp, since: now)
        case .closedAfterWrite, .movedIn:
            pending[path] = Pending(stamp: stamp, since: now, barrier: barrier)
            return .waiting
        case .seen:
            if pending[path]?.stamp != stamp {
                // Unchanged since its modification time at least (never later than now: clocks differ).
                pending[path] = Pending(stamp: stamp, since: min(now, stamp.mtimeSeconds))
            }
        case .removed:
            break
        }
        return takeIfDue(path, now: now, handled: 0) ? .ready : .waiting
    }

    /// Files complete now, checked against their stamps: closed files whose barrier look was
    /// handled, settling files whose window has passed. Those unchanged are ready (and forgotten
    /// here); those changed settle anew; those gone are dropped.
    public mutating func due(now: Double, handled: UInt64, stamp: (String) -> FileStamp?) -> [String] {
        var ready: [String] = []
        for (path, entry) in pending where isDue(entry, now: now, handled: handled) {
            guard let current = stamp(path) else {
                pending[path] = nil
                continue
            }
            if current == entry.stamp {
                pending[path] = nil
                ready.append(path)
            } else {
                pending[path] = Pending(stamp: current, since: min(now, current.mtimeSeconds))
                if takeIfDue(path, now: now, handled: handled) { ready.append(path) }
            }
        }
        return ready.sorted()
    }

    /// When the next settling file's window ends, if any file settles by time.
    public var nextDeadline: Double? {
        pending.values.filter { $0.barrier == nil }.map { $0.since + settle }.min()
    }

    /// Forgets every file under a folder (relative, "" for all): it was deleted or moved away.
    public mutating func forget(under folder: String) {
        if folder.isEmpty {
            pending.removeAll()
            return
        }
        let prefix = folder + "/"
        pending = pending.filter { !$0.key.hasPrefix(prefix) }
    }

    private func isDue(_ entry: Pending?, now: Double, handled: UInt64) -> Bool {
        guard let entry else { return false }
        if let barrier = entry.barrier { return handled >= barrier }
        return now - entry.since >= settle
    }

    /// If a file's wait is over, forgets it here (it is ready) and returns true.
    private mutating func takeIfDue(_ path: String, now: Double, handled: UInt64) -> Bool {
        guard isDue(pending[path], now: now, handled: handled) else { return false }
        pending[path] = nil
        return true
    }
}
