import ArgumentParser
import AssetSync
import PixieBrix

/// The documented exit codes (docs/architecture.md): what a script can tell from `$?`.
enum ExitStatus: Int32 {
    case success = 0
    /// Some files failed; the others finished.
    case someFailed = 1
    /// A usage or configuration error.
    case usage = 2
    /// The token was refused, or lacks permission.
    case authentication = 3
    /// The server could not be reached.
    case unreachable = 4

    static func of(_ error: any Error) -> ExitStatus {
        switch error {
        case let error as PixieBrixError: return of(error.kind)
        case let error as SyncError:
            switch error.kind {
            case .api(let kind): return of(kind)
            case .stateFile, .busy, .localFolder: return .usage
            }
        case is CLIError: return .usage
        default: return .someFailed
        }
    }

    static func of(_ kind: PixieBrixError.Kind) -> ExitStatus {
        switch kind {
        case .unauthorized, .forbidden: return .authentication
        case .unreachable: return .unreachable
        case .notFound, .invalidRequest, .unsupportedVersion, .insecureURL, .foreignHost: return .usage
        case .throttled, .server, .unexpectedStatus, .malformedResponse, .localFile, .cancelled: return .someFailed
        }
    }
}

/// A configuration or usage problem found before any request.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
