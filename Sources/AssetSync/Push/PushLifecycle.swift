/// The states of one file's push, as DESIGN.md draws them.
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

/// The push lifecycle's transitions, in one place and without I/O.
public enum PushLifecycle {
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
