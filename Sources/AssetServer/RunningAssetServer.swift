import Foundation

/// A server that is listening.
public struct RunningAssetServer: Sendable {
    /// The base URL, e.g. `http://127.0.0.1:54321` (no trailing slash).
    public let url: URL
    /// The main API token.
    public let token: String
    /// The lower-case UUID of the server's one organization.
    public let organizationID: String
    /// What links in answers start with (`--public-url`, or the listening address).
    public let linkBase: String
}
