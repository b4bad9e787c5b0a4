// How one job's run ended, and the run's tally of them.

/// A reason one file cannot be pulled; recorded on its job.
struct JobFailure: Error {
    var reason: String
}

enum JobResult: Sendable {
    case done(bytes: Int64, retries: Int)
    case failed(retries: Int)
}

actor Tally {
    private(set) var summary = SyncSummary()

    func add(_ result: JobResult) {
        switch result {
        case .done(let bytes, let retries):
            summary.done += 1
            summary.bytes += bytes
            summary.retries += retries
        case .failed(let retries):
            summary.failed += 1
            summary.retries += retries
        }
    }
}
