import Transfer

/// How a call failed to reach the server or to hear back, which says whether the request can have
/// been applied: no request went out after ``dns`` or ``connect``; it may have after the others.
public enum ConnectionFailure: Sendable, Equatable {
    /// The host name did not resolve.
    case dns
    /// The TCP connection was refused or could not be made.
    case connect
    case tls
    /// The connect timeout or the request's overall timeout ran out.
    case timeout
    /// The peer sent or took less than the low-speed limit for too long.
    case stalled
    /// The connection broke mid-exchange (reset, empty reply, truncated body).
    case connectionLost

    /// Whether the request can have reached the server.
    public var requestMayHaveBeenSent: Bool {
        switch self {
        case .dns, .connect: false
        case .tls, .timeout, .stalled, .connectionLost: true
        }
    }

    init?(_ kind: TransferError.Kind) {
        switch kind {
        case .dns: self = .dns
        case .connect: self = .connect
        case .tls: self = .tls
        case .timeout: self = .timeout
        case .stalled: self = .stalled
        case .connectionLost: self = .connectionLost
        default: return nil
        }
    }
}
