import Foundation

/// Hands the queue's active jobs to the watch service's workers for as long as the service runs.
///
/// Unlike a push, the queue never runs dry for good: a worker that finds nothing waits until
/// ``wake()`` (a job was enqueued) or ``tick(now:)`` (a retry is due). Each job is read afresh
/// from the store when handed out, and never to two workers at once; a job that is still active
/// after its run (a transient failure) is tried again after a growing delay.
actor JobScheduler {
    /// How a job's run ended, read back from the store.
    enum Outcome: Sendable, Equatable {
        case done(PushJob)
        case failed(PushJob)
        /// Still active (a transient failure): tried again after `retryIn` seconds.
        case retrying(PushJob?, retryIn: Double)
    }

    private let store: StateStore
    private let batchSize: Int
    /// Ids still to look at, the next one last.
    private var candidates: [Int64] = []
    /// The highest id read so far; jobs enqueued later have higher ids.
    private var cursor: Int64 = 0
    private var inFlight: [Int64: String] = [:]
    private var busyPaths: Set<String> = []
    /// Paths that became ready while their job ran: looked at again when it ends.
    private var deferred: Set<String> = []
    private var retryAt: [Int64: Double] = [:]
    private var attempts: [Int64: Int] = [:]
    /// No job is handed out before this time (the server was unreachable).
    private var pausedUntil: Double = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var draining = false

    static let firstRetryDelay = 5.0
    static let maxRetryDelay = 300.0

    init(store: StateStore, batchSize: Int = 256) {
        self.store = store
        self.batchSize = batchSize
    }

    var inFlightCount: Int { inFlight.count }

    /// The next job to run, or nil once draining.
    func next() async throws -> PushJob? {
        while !draining {
            if let job = try pick() { return job }
            await withCheckedContinuation { waiters.append($0) }
        }
        return nil
    }

    private func pick() throws -> PushJob? {
        let now = Date().timeIntervalSince1970
        guard now >= pausedUntil else { return nil }
        while true {
            if candidates.isEmpty {
                let batch = try store.activePushJobs(after: cursor, limit: batchSize)
                guard let last = batch.last?.id else { return nil }
                cursor = last
                candidates = batch.compactMap(\.id).reversed()
            }
            while let id = candidates.popLast() {
                if inFlight[id] != nil { continue }
                if let due = retryAt[id], due > now { continue }
                // Read afresh: the batch may be older than the job's last run.
                guard let job = try store.pushJob(id: id), !job.state.isTerminal else {
                    forget(id)
                    continue
                }
                retryAt[id] = nil
                inFlight[id] = job.path
                busyPaths.insert(job.path)
                return job
            }
        }
    }

    /// A job was enqueued: one waiting worker is enough to take it (if another worker takes it
    /// first, the woken one finds nothing and waits again).
    func wake() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    /// Called now and then: when a retry is due or a pause ends, look at the whole queue again.
    func tick(now: Double) {
        let retryDue = retryAt.values.contains { $0 <= now }
        let pauseEnded = pausedUntil > 0 && pausedUntil <= now
        guard retryDue || pauseEnded else { return }
        if pauseEnded { pausedUntil = 0 }
        if retryDue {
            cursor = 0
            candidates = []
        }
        resumeWaiters()
    }

    /// Records the end of a job's run; returns how it ended and the deferred path to look at again.
    func finished(_ job: PushJob) throws -> (Outcome, recheck: String?) {
        guard let id = job.id else { return (.failed(job), nil) }
        inFlight[id] = nil
        busyPaths.remove(job.path)
        let recheck = deferred.remove(job.path)
        guard let now = try store.pushJob(id: id) else {
            // Pruned already: only finished jobs are, and the manifest tells whether this one did.
            forget(id)
            let entry = try store.manifestEntry(path: job.path)
            return (entry?.md5 == job.md5 ? .done(job) : .failed(job), recheck)
        }
        switch now.state {
        case .done:
            forget(id)
            return (.done(now), recheck)
        case .failed:
            forget(id)
            return (.failed(now), recheck)
        default:
            let delay = retryDelay(id)
            retryAt[id] = Date().timeIntervalSince1970 + delay
            return (.retrying(now, retryIn: delay), recheck)
        }
    }

    /// The server could not be reached during this job: hand out nothing for a while, then retry it.
    func serverUnreachable(_ job: PushJob) -> Double {
        guard let id = job.id else { return Self.firstRetryDelay }
        inFlight[id] = nil
        busyPaths.remove(job.path)
        let delay = retryDelay(id)
        let until = Date().timeIntervalSince1970 + delay
        retryAt[id] = until
        pausedUntil = max(pausedUntil, until)
        return delay
    }

    /// If the path's job is running, remembers to look at the path again when it ends.
    func deferIfBusy(_ path: String) -> Bool {
        guard busyPaths.contains(path) else { return false }
        deferred.insert(path)
        return true
    }

    /// Failed jobs were put back (with their old ids): look at the whole queue again.
    func requeued() {
        cursor = 0
        candidates = []
        resumeWaiters()
    }

    /// Stops handing out jobs; waiting workers return nil.
    func drain() {
        draining = true
        resumeWaiters()
    }

    private func retryDelay(_ id: Int64) -> Double {
        let attempt = attempts[id, default: 0]
        attempts[id] = attempt + 1
        return min(Self.maxRetryDelay, Self.firstRetryDelay * pow(2, Double(attempt)))
    }

    private func forget(_ id: Int64) {
        retryAt[id] = nil
        attempts[id] = nil
    }

    private func resumeWaiters() {
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume() }
    }
}
