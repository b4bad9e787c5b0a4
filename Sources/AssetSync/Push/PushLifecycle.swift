/// The states of one file's push, as docs/architecture.md draws them.
///
/// ```
/// queued → creating → created → uploading → uploaded → marking → marked → verifying → done
///                                      ↘ failed (permanent, with reason; `assets retry` requeues)
/// ```
/// Each step has a state that is committed before it starts (`creating`, `uploading`, ...) and
/// one that says it has finished (`created`, `uploaded`, ...); what a step learned (the asset id,
/// the ETag) is committed with the next step's running state, before that step relies on it, or
/// with the finished state when the run stops there. A process that dies during a step finds the
/// step's "-ing" state on restart and does the step again: every step is idempotent except the
/// create, whose repeat may leave an orphan asset.
public enum PushState: String, Codable, Sendable, CaseIterable {
    case queued, creating, created, uploading, uploaded, marking, marked, verifying, done, failed

    /// States that still have work to do.
    public static let active: [PushState] = allCases.filter { !$0.isTerminal }

    public var isTerminal: Bool { self == .done || self == .failed }
}

/// One step of the push lifecycle.
public enum PushStep: String, Sendable, CaseIterable {
    /// `POST .../assets/`: get an asset id and a presigned POST.
    case create
    /// The presigned POST of the bytes to storage.
    case upload
    /// `PATCH is_uploaded: true`.
    case mark
    /// `GET ?meta=true` (and with `--verify content`, a download compared by SHA-256).
    case verify

    /// The state committed before the step starts.
    public var runningState: PushState {
        switch self {
        case .create: .creating
        case .upload: .uploading
        case .mark: .marking
        case .verify: .verifying
        }
    }

    /// The state committed once the step has finished.
    public var finishedState: PushState {
        switch self {
        case .create: .created
        case .upload: .uploaded
        case .mark: .marked
        case .verify: .done
        }
    }
}

/// What happened to a job, as the runner tells ``PushLifecycle``. The step it concerns is the one
/// whose state the lifecycle is in.
public enum PushEvent: Sendable, Equatable {
    /// The job was picked up in this run, in the lifecycle's state.
    case resumed
    /// The local file was looked at: unchanged since it was queued (or only touched).
    case localFileUnchanged
    /// The local file's content changed since it was queued.
    case localFileChanged
    case localFileMissing
    case localFileUnreadable(String)
    /// The running step finished; what it learned is on the job.
    case succeeded
    /// The running step failed; `elapsed` is the job's time in this run so far.
    case failed(StepFailure, elapsed: Duration)
    /// The upload link was issued too long ago to be used.
    case uploadLinkExpired
    /// Storage's ETag differs from the queued MD5 because the file changed during the upload.
    case fileChangedDuringUpload
    /// Storage's ETag differs from the queued MD5 and the file did not change.
    case etagMismatch(String)
    /// A step needs the asset id and none was recorded.
    case assetIdMissing
    /// The runner carried out a ``PushAction/recreate(reason:)`` or ``PushAction/restart(reason:)``.
    case reset
}

/// What the runner does next, as ``PushLifecycle`` decides.
public enum PushAction: Sendable, Equatable {
    /// Compare the local file with the queued one (a `stat`, and a hash only if that changed), then
    /// report ``PushEvent/localFileUnchanged`` or what was found.
    case checkFile
    /// Commit the step's running state (with what earlier steps learned), then run the step.
    case run(PushStep)
    /// Record a possible orphan asset (with no known id) if given, wait, and run the step again
    /// (its running state is already committed).
    case retry(PushStep, after: RetryWait, possibleOrphan: String?)
    /// Record a possible orphan asset (the process stopped during a create), then run the step.
    case recordPossibleOrphan(String, then: PushStep)
    /// Drop the asset (it becomes an orphan) and the upload link, commit `queued`, report ``PushEvent/reset``.
    case recreate(reason: String)
    /// Start over with the file's new content (any asset becomes an orphan), report ``PushEvent/reset``.
    case restart(reason: String)
    /// Commit `failed` with the reason.
    case fail(reason: String)
    /// Commit `done` and the manifest entry.
    case finish
    /// Stop the whole run with the error; the job stays resumable where it is.
    case stopRun
    /// Nothing: the job is finished or failed already.
    case ignore
}

/// One job's push lifecycle as a pure state machine: events in, actions out, no I/O, no clock, no
/// randomness. Every decision about a job (transient or permanent, retry or give up, recreate at
/// most ``maxRecreations`` times, restart on a local change) is taken here; ``PushRunner`` carries
/// the actions out.
public struct PushLifecycle: Sendable, Equatable {
    public static let maxRecreations = 3

    public private(set) var state: PushState
    /// Fresh creates made because an upload link expired or was refused (persisted on the job).
    public private(set) var recreations: Int
    /// Retries made in this run.
    public private(set) var retries = 0
    public let budget: RetryBudget

    public init(state: PushState, recreations: Int = 0, budget: RetryBudget = RetryBudget()) {
        self.state = state
        self.recreations = recreations
        self.budget = budget
    }

    public mutating func handle(_ event: PushEvent) -> PushAction {
        if state.isTerminal { return .ignore }
        switch event {
        case .resumed:
            if Self.mayHaveOrphaned(resumingFrom: state) {
                return .recordPossibleOrphan("the process stopped during the create; the server may hold an unmarked asset",
                                             then: .create)
            }
            return proceed()
        case .localFileUnchanged:
            guard let step = Self.nextStep(from: state) else { return unexpected(event) }
            state = step.runningState
            return .run(step)
        case .localFileChanged:
            guard Self.checksFile(in: state) else { return unexpected(event) }
            return reset(.restart(reason: "the file changed before its upload finished"))
        case .localFileMissing:
            guard Self.checksFile(in: state) else { return unexpected(event) }
            return fail("the file disappeared before its upload finished")
        case .localFileUnreadable(let message):
            guard Self.checksFile(in: state) else { return unexpected(event) }
            return fail("cannot read the file: \(message)")
        case .succeeded:
            guard let step = runningStep else { return unexpected(event) }
            state = step.finishedState
            if step == .verify { return .finish }
            return proceed()
        case .failed(let failure, let elapsed):
            guard let step = runningStep else { return unexpected(event) }
            return failed(step, failure, elapsed: elapsed)
        case .uploadLinkExpired:
            guard state == .uploading else { return unexpected(event) }
            return recreate("its upload URL expired before the upload")
        case .fileChangedDuringUpload:
            guard state == .uploading else { return unexpected(event) }
            return reset(.restart(reason: "the file changed during its upload"))
        case .etagMismatch(let detail):
            guard state == .uploading else { return unexpected(event) }
            return fail(detail)
        case .assetIdMissing:
            guard state == .marking || state == .verifying else { return unexpected(event) }
            return recreate("no asset id was recorded")
        case .reset:
            guard state == .queued else { return unexpected(event) }
            return proceed()
        }
    }

    /// The step whose running state the job is in.
    private var runningStep: PushStep? {
        PushStep.allCases.first { $0.runningState == state }
    }

    /// From a state at rest (or resumed mid-step): look at the file first where a change restarts the job.
    private mutating func proceed() -> PushAction {
        guard let step = Self.nextStep(from: state) else { return .ignore }
        if Self.checksFile(in: state) { return .checkFile }
        state = step.runningState
        return .run(step)
    }

    private mutating func failed(_ step: PushStep, _ failure: StepFailure, elapsed: Duration) -> PushAction {
        switch failure {
        case .transient(let message, let retryAfter), .maybeApplied(let message, let retryAfter):
            switch budget.decide(message, retryAfter: retryAfter, counting: &retries, elapsed: elapsed) {
            case .giveUp(let reason):
                return fail(reason)
            case .retry(let wait):
                var orphan: String?
                if step == .create, case .maybeApplied = failure {
                    orphan = "a create failed after it may have been saved (\(message)); created again"
                }
                return .retry(step, after: wait, possibleOrphan: orphan)
            }
        case .refused(let message):
            // Storage refuses an expired or revoked link; the API refusing the token ends the run.
            guard step == .upload else { return .stopRun }
            return recreate("storage refused the upload URL (\(message))")
        case .stopsRun:
            return .stopRun
        case .permanent(let message):
            return fail(message)
        }
    }

    private mutating func recreate(_ reason: String) -> PushAction {
        guard recreations < Self.maxRecreations else { return fail("\(reason), \(recreations) times") }
        recreations += 1
        return reset(.recreate(reason: reason))
    }

    private mutating func reset(_ action: PushAction) -> PushAction {
        state = .queued
        return action
    }

    private mutating func fail(_ reason: String) -> PushAction {
        state = .failed
        return .fail(reason: reason)
    }

    private mutating func unexpected(_ event: PushEvent) -> PushAction {
        fail("internal error: \(event) while \(state.rawValue)")
    }

    /// Whether the file is compared with the queued one before the next step from this state.
    static func checksFile(in state: PushState) -> Bool {
        guard let step = nextStep(from: state), step != .verify else { return false }
        return restartsOnLocalChange(in: state)
    }

    /// The step to run from a state; nil when the job is finished or failed.
    public static func nextStep(from state: PushState) -> PushStep? {
        switch state {
        case .queued, .creating: .create
        case .created, .uploading: .upload
        case .uploaded, .marking: .mark
        case .marked, .verifying: .verify
        case .done, .failed: nil
        }
    }

    /// Whether resuming from this state may mean the server made an asset we never heard of.
    public static func mayHaveOrphaned(resumingFrom state: PushState) -> Bool {
        state == .creating
    }

    /// What a job does when its local file no longer matches what was enqueued, by state.
    ///
    /// Before the mark, the new content simply starts over (the asset created for the old content
    /// stays an orphan). Once marked, the old content is a finished upload of what the file was;
    /// the new content is a new change, found by the next scan.
    public static func restartsOnLocalChange(in state: PushState) -> Bool {
        switch state {
        case .queued, .creating, .created, .uploading, .uploaded, .marking: true
        case .marked, .verifying, .done, .failed: false
        }
    }
}
