/// Settles the race between a transfer being handed to the engine, finishing, and its task being cancelled.
///
/// Cancellation can arrive before the continuation exists, while the transfer is queued or running,
/// or after it finished. Each event returns what the owner must do, outside any lock.
struct CompletionStateMachine<Continuation> {
    private enum State {
        case idle
        case cancelledBeforeStart
        case waiting(Continuation)
        case finished
    }

    enum StartAction {
        /// Hand the transfer to the engine.
        case submit
        /// The task was cancelled before the transfer started: resume at once with cancellation.
        case resumeCancelled(Continuation)
    }

    enum CancelAction {
        case none
        /// The transfer is in the engine: ask the engine to abort it (it completes as cancelled).
        case abortInEngine
    }

    private var state: State = .idle

    mutating func start(_ continuation: Continuation) -> StartAction {
        switch state {
        case .idle:
            state = .waiting(continuation)
            return .submit
        case .cancelledBeforeStart:
            state = .finished
            return .resumeCancelled(continuation)
        case .waiting, .finished:
            preconditionFailure("a transfer is started once")
        }
    }

    mutating func cancel() -> CancelAction {
        switch state {
        case .idle:
            state = .cancelledBeforeStart
            return .none
        case .waiting:
            return .abortInEngine
        case .cancelledBeforeStart, .finished:
            return .none
        }
    }

    /// The transfer ended; returns the continuation to resume, or nil when nobody waits any more.
    mutating func finish() -> Continuation? {
        switch state {
        case .waiting(let continuation):
            state = .finished
            return continuation
        case .idle, .cancelledBeforeStart, .finished:
            state = .finished
            return nil
        }
    }
}
