import Foundation

/// What `/healthz` tells about a running watch service.
public struct WatchStatus: Sendable, Equatable, Codable {
    /// `starting`, `watching` or `draining`.
    public var state = "starting"
    public var watchedFolders = 0
    public var settling = 0
    public var queued = 0
    public var inFlight = 0
    /// Since the service started.
    public var done = 0
    public var failed = 0
    public var lastError: String?
    public var lastRescan: Date?

    public init() {}
}
