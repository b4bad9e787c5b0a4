import PixieBrix

/// A failed step's error, classified once for the lifecycles: what the error means for the job,
/// not what went wrong on the wire.
public enum StepFailure: Sendable, Equatable {
    /// The same call may succeed later and was not applied (`429`, `502`–`504`).
    case transient(String, retryAfter: Duration?)
    /// The same call may succeed later, but the server may have applied it before the answer was
    /// lost (`500`, a reset or timeout after the request went out).
    case maybeApplied(String, retryAfter: Duration?)
    /// `403`: storage refusing a presigned link (expired), or the API refusing the token.
    case refused(String)
    /// Nothing more can be done in this run for any file (server down, token refused, cancelled);
    /// the job stays where it is, resumable.
    case stopsRun(String)
    /// Trying again cannot help this file.
    case permanent(String)

    public var message: String {
        switch self {
        case .transient(let message, _), .maybeApplied(let message, _), .refused(let message),
             .stopsRun(let message), .permanent(let message):
            message
        }
    }

    /// Classifies an API or storage error.
    public static func classify(_ error: PixieBrixError) -> StepFailure {
        let message = error.description
        switch error.kind {
        case .throttled:
            return .transient(message, retryAfter: error.retryAfter)
        case .server:
            // Only a 500 may follow a save (docs/api-contract.md); 502–504 come from in front of the application.
            if error.status == 500 { return .maybeApplied(message, retryAfter: error.retryAfter) }
            return .transient(message, retryAfter: error.retryAfter)
        case .unreachable:
            guard error.connectionFailure?.requestMayHaveBeenSent == true else {
                // No connection at all: the server is down or the URL wrong, for every file alike.
                return .stopsRun(message)
            }
            return .maybeApplied(message, retryAfter: nil)
        case .forbidden:
            return .refused(message)
        case .unauthorized, .insecureURL, .foreignHost, .cancelled:
            return .stopsRun(message)
        case .notFound, .invalidRequest, .unsupportedVersion, .unexpectedStatus, .malformedResponse, .localFile:
            return .permanent(message)
        }
    }
}
