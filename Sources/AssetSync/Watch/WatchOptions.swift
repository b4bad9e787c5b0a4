public struct WatchOptions: Sendable {
    /// Transfers, verification, include/exclude globs and bandwidth, as for a push.
    public var push = PushOptions()
    /// Seconds a file's size and modification time must stay the same for it to count as complete
    /// (when it was not seen being closed after writing, nor renamed into place).
    public var settle: Double = 2
    /// Seconds between full rescans, which catch anything the events missed.
    public var rescan: Double = 300
    /// Seconds that files in flight get to finish after ``WatchService/shutdown()``.
    public var grace: Double = 30
    /// Leave out editors' swap files and downloads in progress (``temporaryNamePatterns``).
    public var ignoreTemporaryNames = true

    /// Names that are files being written, not files to upload (dotfiles are never pushed anyway).
    public static let temporaryNamePatterns = ["*.swp", "*.swo", "*.swx", "*~", "*.part", "*.tmp", ".#*", "#*#",
                                               "*.crdownload"]

    public init() {}
}
