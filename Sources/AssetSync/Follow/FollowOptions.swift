import Foundation

public struct FollowOptions: Sendable {
    /// Transfers, globs, filters, verification and retries, as for a pull.
    public var pull = PullOptions()
    /// Seconds between polls of the listing.
    public var interval: Double = 30
    /// Seconds that files in flight get to finish after ``FollowService/shutdown()``.
    public var grace: Double = 30
    /// Items per listing page while polling: a poll that finds nothing new reads one page.
    public var pageSize = 100

    public init() {}
}

/// What `/healthz` tells about a running continuous pull.
public struct FollowStatus: Sendable, Equatable, Codable {
    /// `starting`, `following` or `draining`.
    public var state = "starting"
    public var polls = 0
    /// Listing pages read by the last poll.
    public var lastPollPages = 0
    /// Whether the server answered the last poll newest first (otherwise every poll reads the whole listing).
    public var orderedListing = true
    public var queued = 0
    /// Since the service started.
    public var done = 0
    public var failed = 0
    public var lastError: String?
    public var lastPoll: Date?

    public init() {}
}
