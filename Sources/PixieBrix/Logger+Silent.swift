import Logging

extension Logger {
    /// A logger that drops everything: the default of this package's libraries, which are quiet
    /// unless the caller hands them a logger.
    public static func silent(_ label: String) -> Logger {
        Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() })
    }
}
