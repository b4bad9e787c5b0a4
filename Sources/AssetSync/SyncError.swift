import PixieBrix

/// A failure that stops a whole sync (as opposed to one file's failure, which is recorded on its job).
public struct SyncError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The state file cannot be opened or written.
        case stateFile
        /// Another process holds the state file's lock.
        case busy
        /// The folder to sync is missing or unreadable.
        case localFolder
        /// The API refused the token or the database (401/403/404 on the database itself).
        case api(PixieBrixError.Kind)
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
