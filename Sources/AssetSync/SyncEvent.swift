/// What a sync reports as it goes: the CLI turns these into a progress display, JSON lines, or nothing.
public enum SyncEvent: Sendable, Equatable {
    /// The plan: files to transfer and their bytes, files already in sync.
    case planned(files: Int, bytes: Int64, unchanged: Int)
    /// A file's job began (or resumed) in this run.
    case started(path: String, bytes: Int64)
    /// A job committed a new lifecycle state.
    case stateChanged(path: String, state: String)
    /// Bytes of a file moved so far in this run.
    case progress(path: String, bytes: Int64, total: Int64)
    case finished(path: String, bytes: Int64)
    case failed(path: String, reason: String)
    /// A note that is not a failure (a skipped symbolic link, an orphan left behind).
    case notice(String)
    case summary(SyncSummary)
}

/// The outcome of one push or pull run.
public struct SyncSummary: Sendable, Equatable, Codable {
    public var planned = 0
    public var done = 0
    public var failed = 0
    public var unchanged = 0
    public var bytes: Int64 = 0
    public var orphans = 0
    /// Steps (and listings) tried again within the run after a transient failure.
    public var retries = 0
    public var seconds = 0.0

    public init() {}
}

/// Receives ``SyncEvent``s; called from many tasks at once.
public protocol SyncReporter: Sendable {
    func report(_ event: SyncEvent)
}

/// Drops every event.
public struct SilentReporter: SyncReporter {
    public init() {}
    public func report(_ event: SyncEvent) {}
}
