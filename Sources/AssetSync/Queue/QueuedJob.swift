import Foundation
import GRDB

/// What a push job row and a pull job row share: the queue's bookkeeping of failed and finished jobs
/// (list, requeue, prune) is written once over it.
protocol QueuedJob: FetchableRecord, MutablePersistableRecord, Sendable {
    associatedtype State: RawRepresentable<String> & Hashable & DatabaseValueConvertible & Sendable
    /// The states that still have work to do.
    static var activeStates: [State] { get }
    static var queuedState: State { get }
    static var doneState: State { get }
    static var failedState: State { get }

    var path: String { get }
    var state: State { get set }
    /// The state the job failed in, where `assets retry` puts it back.
    var failedState: State? { get set }
    var error: String? { get set }
    var updatedAt: Date { get set }

    /// Writes every column of the row with this job's id (see `JobRows+Update.swift`).
    func updateRow(_ db: GRDB.Database) throws
}

extension QueuedJob {
    /// Puts a failed job back where it failed (or at the start), its error cleared.
    mutating func requeue() {
        state = failedState ?? Self.queuedState
        failedState = nil
        error = nil
        updatedAt = Date()
    }
}

extension PushJob: QueuedJob {
    static var activeStates: [PushState] { PushState.active }
    static var queuedState: PushState { .queued }
    static var doneState: PushState { .done }
    static var failedState: PushState { .failed }
}

extension PullJob: QueuedJob {
    static var activeStates: [PullState] { [.queued, .downloading, .verifying] }
    static var queuedState: PullState { .queued }
    static var doneState: PullState { .done }
    static var failedState: PullState { .failed }
}

extension StateStore {
    /// A queue's jobs in each state.
    func stateCounts<Job: QueuedJob>(of _: Job.Type) throws -> [Job.State: Int] {
        try pool.read { db in
            var counts: [Job.State: Int] = [:]
            let sql = "SELECT state, COUNT(*) AS n FROM \(Job.databaseTableName) GROUP BY state"
            for row in try Row.fetchAll(db, sql: sql) {
                if let state = Job.State(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// A queue's unfinished jobs by path.
    func activeJobsByPath<Job: QueuedJob>(of _: Job.Type) throws -> [String: Job] {
        try pool.read { db in
            let jobs = try Job.filter(Job.activeStates.contains(Column("state"))).fetchAll(db)
            return Dictionary(jobs.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Commits a job's new state with the changes made to it, through the group commit.
    func commitState<Job: QueuedJob>(_ job: inout Job, _ state: Job.State) throws {
        job.state = state
        job.updatedAt = Date()
        let copy = job
        try transitions.write { db in try copy.updateRow(db) }
    }

    /// A queue's failed jobs, by path.
    func failedJobs<Job: QueuedJob>(of _: Job.Type) throws -> [Job] {
        try pool.read { db in try Job.filter(Column("state") == Job.failedState).order(Column("path")).fetchAll(db) }
    }

    /// Forgets a queue's finished jobs from earlier runs: the manifest keeps what they achieved.
    func pruneDoneJobs<Job: QueuedJob>(of _: Job.Type) throws {
        try pool.write { db in _ = try Job.filter(Column("state") == Job.doneState).deleteAll(db) }
    }
}
