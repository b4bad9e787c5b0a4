import Foundation
import Transfer

extension PixieBrixClient {
    /// Starts an export of one or more databases (API version 1.0: the only one these endpoints speak).
    ///
    /// - Parameters:
    ///   - startDate: an ISO 8601 timestamp (or date) on the records' creation, inclusive.
    ///   - endDate: likewise; a bare date covers that whole day.
    public func createExportJob(name: String, databases: [String], format: ExportFormat = .json,
                                startDate: String? = nil, endDate: String? = nil) async throws -> ExportJob {
        struct Filters: Encodable {
            var start_date: String?
            var end_date: String?
        }
        struct Body: Encodable {
            var name: String
            var databases: [String]
            var media_type: String
            var filters: Filters?
        }
        let filters = startDate == nil && endDate == nil ? nil : Filters(start_date: startDate, end_date: endDate)
        let body = Body(name: name, databases: databases, media_type: format.mediaType, filters: filters)
        let what = "creating export job \(name)"
        let response = try await send(.post, url("/api/databases/records/jobs/"), json: Self.jsonBody(body), version: .v1,
                                      retry: RetryPolicy.none, doing: what)
        return try decode(ExportJob.self, from: response, doing: what)
    }

    /// An export job's status, and its file link once it succeeded.
    public func exportJob(_ id: String) async throws -> ExportJob {
        let what = "reading export job \(id)"
        let response = try await send(.get, url("/api/databases/records/jobs/\(id)/"), version: .v1, doing: what)
        return try decode(ExportJob.self, from: response, doing: what)
    }

    /// Polls an export job with growing delays until it succeeds.
    ///
    /// - Throws: ``ExportJobError`` when the job fails (with the server's `error_message`) or is not finished
    ///   within `timeout`; ``PixieBrixError`` when a poll fails.
    public func waitForExportJob(_ id: String, timeout: Duration,
                                 onStatus: (ExportJob) -> Void = { _ in }) async throws -> ExportJob {
        try await Self.poll(jobID: id, timeout: timeout, fetch: { try await self.exportJob(id) }, onStatus: onStatus)
    }

    /// The polling loop of ``waitForExportJob(_:timeout:onStatus:)`` over any source of job states.
    ///
    /// Delays start at 250 ms and grow by half each time up to 5 s, never past the deadline.
    public static func poll(jobID: String, timeout: Duration, initialDelay: Duration = .milliseconds(250),
                            maxDelay: Duration = .seconds(5), fetch: () async throws -> ExportJob,
                            onStatus: (ExportJob) -> Void = { _ in }) async throws -> ExportJob {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var delay = initialDelay
        while true {
            let job = try await fetch()
            onStatus(job)
            switch job.status {
            case .success: return job
            case .failure: throw ExportJobError(jobID: jobID, reason: .failed(message: job.errorMessage))
            default: break
            }
            let left = deadline - clock.now
            guard left > .zero else {
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                throw ExportJobError(jobID: jobID, reason: .timedOut(lastStatus: job.status, seconds: seconds))
            }
            try await Task.sleep(for: min(delay, left))
            delay = min(delay * 1.5, maxDelay)
        }
    }
}
