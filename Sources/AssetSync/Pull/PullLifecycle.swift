/// One step of the pull lifecycle.
public enum PullStep: String, Sendable, CaseIterable {
    /// Ask the API for the storage link (the `302`), then `GET` it into `NAME.part` from its last byte.
    case download
    /// Check the `.part` file's length and MD5 against storage's.
    case verify

    /// The state committed before the step starts.
    public var runningState: PullState {
        switch self {
        case .download: .downloading
        case .verify: .verifying
        }
    }
}

/// What happened to a pull job, as the runner tells ``PullLifecycle``.
public enum PullEvent: Sendable, Equatable {
    /// The job was picked up in this run, in the lifecycle's state.
    case resumed
    /// The running step finished.
    case succeeded
    /// The running step failed; `elapsed` is the job's time in this run so far.
    case failed(StepFailure, elapsed: Duration)
    /// The downloaded bytes are not storage's (length or MD5); the reason says which.
    case contentMismatch(String)
}

/// What the pull runner does next, as ``PullLifecycle`` decides.
public enum PullAction: Sendable, Equatable {
    /// Commit the step's running state, then run the step.
    case run(PullStep)
    /// Wait, then run the step again; a download goes on from the `.part` file's last byte.
    case retry(PullStep, after: RetryWait)
    /// Fsync and rename the `.part` file into place, commit `done` with the manifest entry.
    case finish
    /// Commit `failed` with the reason; remove the `.part` file when its bytes are known to be wrong.
    case fail(reason: String, removePart: Bool)
    /// Stop the whole run with the error; the job stays resumable where it is.
    case stopRun
    /// Nothing: the job is finished or failed already.
    case ignore
}

/// One job's pull lifecycle as a pure state machine (see ``PushLifecycle``):
/// `queued → downloading → verifying → done`, or `failed`.
public struct PullLifecycle: Sendable, Equatable {
    /// Fresh links asked for after storage refused one (it expired between the `302` and the `GET`).
    public static let maxLinkRefreshes = 1

    public private(set) var state: PullState
    public private(set) var retries = 0
    public private(set) var linkRefreshes = 0
    public let budget: RetryBudget

    public init(state: PullState, budget: RetryBudget = RetryBudget()) {
        self.state = state
        self.budget = budget
    }

    public mutating func handle(_ event: PullEvent) -> PullAction {
        if state.isTerminal { return .ignore }
        switch event {
        case .resumed:
            // A resumed download goes on from the `.part` file's bytes; a resumed check checks again.
            let step: PullStep = state == .verifying ? .verify : .download
            state = step.runningState
            return .run(step)
        case .succeeded:
            switch state {
            case .downloading:
                state = .verifying
                return .run(.verify)
            case .verifying:
                state = .done
                return .finish
            default:
                return unexpected(event)
            }
        case .failed(let failure, let elapsed):
            guard let step = PullStep.allCases.first(where: { $0.runningState == state }) else { return unexpected(event) }
            return failed(step, failure, elapsed: elapsed)
        case .contentMismatch(let reason):
            guard state == .verifying else { return unexpected(event) }
            state = .failed
            return .fail(reason: "\(reason); the partial file was removed", removePart: true)
        }
    }

    private mutating func failed(_ step: PullStep, _ failure: StepFailure, elapsed: Duration) -> PullAction {
        switch failure {
        case .transient(let message, let retryAfter), .maybeApplied(let message, let retryAfter):
            // Every pull request is a read: a retry cannot duplicate anything.
            switch budget.decide(message, retryAfter: retryAfter, counting: &retries, elapsed: elapsed) {
            case .giveUp(let reason): return fail(reason)
            case .retry(let wait): return .retry(step, after: wait)
            }
        case .refused(let message):
            guard step == .download, linkRefreshes < Self.maxLinkRefreshes else {
                return step == .download ? fail("storage refused the download link twice (\(message))") : .stopRun
            }
            linkRefreshes += 1
            return .run(.download)
        case .stopsRun:
            return .stopRun
        case .permanent(let message):
            return fail(message)
        }
    }

    private mutating func fail(_ reason: String) -> PullAction {
        state = .failed
        return .fail(reason: reason, removePart: false)
    }

    private mutating func unexpected(_ event: PullEvent) -> PullAction {
        fail("internal error: \(event) while \(state.rawValue)")
    }

    /// What a failed listing of the assets does (before any job exists): retry after a pause, or
    /// give up (nil: the failure is not worth a retry and is thrown as it is).
    public static func listingFailed(_ failure: StepFailure, retriesMade: Int, elapsed: Duration,
                                     budget: RetryBudget) -> RetryWait? {
        switch failure {
        case .transient(let message, let retryAfter), .maybeApplied(let message, let retryAfter):
            if case .retry(let wait) = budget.decide(message, retryAfter: retryAfter, retriesMade: retriesMade,
                                                     elapsed: elapsed) {
                return wait
            }
            return nil
        case .refused, .stopsRun, .permanent:
            return nil
        }
    }
}
