/// How often, and for how long, one job's failing steps are tried again within a run, and how
/// long to pause between tries (exponential, with full jitter).
public struct RetryBudget: Sendable, Equatable {
    /// Retries per job and run; 0 fails a job at its first failure.
    public var retries: Int
    /// Time per job and run after which a failing job gives up.
    public var duration: Duration
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(retries: Int = 10, duration: Duration = .seconds(15 * 60), baseDelay: Duration = .milliseconds(250),
                maxDelay: Duration = .seconds(30)) {
        self.retries = max(0, retries)
        self.duration = duration
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// What a job does after a retryable failure, given the retries it already made and the time it
    /// has spent in this run: another try after a pause, or give up with the reason.
    func decide(_ message: String, retryAfter: Duration?, retriesMade: Int, elapsed: Duration) -> RetryDecision {
        let spent = elapsed + (retryAfter ?? .zero)
        guard retriesMade < retries, spent < duration else {
            let unit = retriesMade == 1 ? "retry" : "retries"
            return .giveUp("\(message) (gave up after \(retriesMade) \(unit))")
        }
        let exponent = min(retriesMade, 30)
        let bound = baseDelay * (1 << exponent)
        return .retry(RetryWait(ceiling: min(maxDelay, bound), retryAfter: retryAfter))
    }
}

extension RetryBudget {
    /// ``decide(_:retryAfter:retriesMade:elapsed:)`` for a job whose lifecycle keeps its count in `retries`:
    /// a retry is counted there, so both lifecycles count the same way.
    func decide(_ message: String, retryAfter: Duration?, counting retries: inout Int, elapsed: Duration) -> RetryDecision {
        let decision = decide(message, retryAfter: retryAfter, retriesMade: retries, elapsed: elapsed)
        if case .retry = decision { retries += 1 }
        return decision
    }
}

enum RetryDecision: Sendable, Equatable {
    case retry(RetryWait)
    case giveUp(String)
}

/// The pause before a retry: full jitter below `ceiling`, and never less than the server's
/// `Retry-After`.
public struct RetryWait: Sendable, Equatable {
    public var ceiling: Duration
    public var retryAfter: Duration?

    public init(ceiling: Duration, retryAfter: Duration? = nil) {
        self.ceiling = ceiling
        self.retryAfter = retryAfter
    }

    /// The one place a retry's pause is computed from the decision (a cap on `Retry-After` goes here).
    ///
    /// - Parameter unitRandom: a value in `0...1`, drawn by the caller.
    public func duration(unitRandom: Double) -> Duration {
        let unit = unitRandom.isFinite ? min(1, max(0, unitRandom)) : 0
        let jittered = ceiling * unit
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }
}

/// Waits before a retry, as the lifecycle's ``RetryWait`` says (the jitter is drawn here).
func pauseBeforeRetry(_ wait: RetryWait) async throws {
    do {
        try await Task.sleep(for: wait.duration(unitRandom: Double.random(in: 0...1)))
    } catch {
        throw SyncError(kind: .api(.cancelled), message: "cancelled while waiting to retry")
    }
}
