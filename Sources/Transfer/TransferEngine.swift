import Foundation
import Logging

/// Runs HTTP transfers on one libcurl multi handle driven by a dedicated thread.
///
/// Requests beyond the connection limits wait inside the engine (in libcurl's pending queue),
/// not in threads. Use one engine for many requests so that connections are reused.
///
/// ```swift
/// try await withTransferEngine { engine in
///     let response = try await engine.perform(HTTPRequest(url: url))
/// }
/// ```
public final class TransferEngine: Sendable {
    public struct Configuration: Sendable {
        /// Open connections at most, across all hosts.
        public var maxConnections: Int = 64
        /// Open connections at most to one host (HTTP/2 multiplexes streams over fewer).
        public var maxConnectionsPerHost: Int = 16
        public var connectTimeout: Duration = .seconds(15)
        /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` fails as stalled (transient,
        /// so retried): a server that trickles cannot hold a transfer forever.
        /// libcurl counts `lowSpeedTime` in whole seconds (rounded up, at least 1). A request with a
        /// bandwidth limit below twice `lowSpeedLimit` is judged against half its own limit instead.
        public var lowSpeedLimit: Int = 1024
        public var lowSpeedTime: Duration = .seconds(60)
        /// The longest `Retry-After` the engine waits for: a longer demand fails the request at once
        /// (``TransferError/Kind/retryAfterTooLong(seconds:)``) instead of sleeping on the server's word.
        public var maxRetryWait: Duration = .seconds(600)
        /// Prefer HTTP/2 over TLS where the server offers it, and multiplex.
        public var http2: Bool = true
        public var userAgent: String = "assets/0.1 libcurl"
        /// Caps the whole engine's rate in bytes per second per transfer when set, unless a request sets its own.
        public var bandwidthLimit: Int?
        /// A PEM file of CA certificates to trust instead of the system's (a private CA, a test server).
        /// Verification itself is always on.
        public var caBundlePath: String?
        /// Requests in flight to one host at most; an overloaded host (`429`, or `503` with
        /// `Retry-After`) lowers this for every request to it (see ``HostThrottle``).
        public var maxRequestsPerHost: Int = 256

        public init() {}
    }

    public let configuration: Configuration
    private let logger: Logger
    let loop: CurlMultiLoop
    private let throttle: HostThrottle

    /// The default: the engine is quiet unless the caller hands it a logger.
    public static var silentLogger: Logger { Logger(label: "assets.transfer", factory: { _ in SwiftLogNoOpLogHandler() }) }

    public init(configuration: Configuration = Configuration(), logger: Logger = TransferEngine.silentLogger) {
        self.configuration = configuration
        self.logger = logger
        self.loop = CurlMultiLoop(configuration: configuration)
        self.throttle = HostThrottle(ceiling: configuration.maxRequestsPerHost, maxPause: configuration.maxRetryWait)
    }

    deinit {
        loop.requestStop()
    }

    /// Carries out a request, retrying per its ``RetryPolicy``.
    ///
    /// A file destination resumes on a retry from the bytes the earlier attempt wrote.
    ///
    /// - Returns: the response for any HTTP status (after retries on retryable statuses run out).
    /// - Throws: ``TransferError`` for transport failures, local I/O, cancellation, oversized bodies.
    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let policy = request.retry
        var resumeFile = request.destination.resumes
        var attempt = 1
        let host = HostThrottle.key(for: request.url)
        while true {
            await throttle.acquire(host)
            let (outcome, wroteToFile) = await performOnce(request, resumeFile: resumeFile)
            await throttle.release(host, answer: outcome)
            // What a failed attempt wrote belongs to this request: the next attempt continues it.
            resumeFile = resumeFile || wroteToFile
            let retryAfter: Duration?
            switch outcome {
            case .success(var response):
                guard attempt < policy.maxAttempts, policy.retryableStatuses.contains(response.status) else {
                    response.attempts = attempt
                    return response
                }
                let demand = RetryAfter.demand(response.headers["Retry-After"])
                if let demand, demand.exceeds(configuration.maxRetryWait) {
                    throw TransferError.retryAfterTooLong(demand, cap: configuration.maxRetryWait, response: response)
                }
                retryAfter = demand?.duration
            case .failure(let error):
                guard attempt < policy.maxAttempts, policy.retries(error) else { throw error }
                retryAfter = nil
            }
            let delay = policy.delay(after: attempt, retryAfter: retryAfter)
            logger.debug("retrying", metadata: ["attempt": "\(attempt)", "delay": "\(delay)",
                                                "url": "\(TransferError.redacted(request.url))"])
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw TransferError(kind: .cancelled, message: "cancelled while waiting to retry", url: request.url)
            }
            attempt += 1
        }
    }

    /// One attempt: a new easy handle handed to the loop, awaited with cancellation. Also says whether
    /// the attempt wrote into the destination file.
    private func performOnce(_ request: HTTPRequest, resumeFile: Bool) async
        -> (Result<HTTPResponse, TransferError>, wroteToFile: Bool) {
        if Task.isCancelled {
            return (.failure(TransferError(kind: .cancelled, message: "the transfer was cancelled", url: request.url)), false)
        }
        var offset: Int64 = 0
        if resumeFile { offset = request.destination.bytesOnDisk() }
        let transfer: EasyTransfer
        do {
            transfer = try EasyTransfer(request: request, configuration: configuration, resumeOffset: offset)
        } catch {
            return (.failure(error), false)
        }
        let loop = self.loop
        let result: Result<HTTPResponse, TransferError>
        do {
            result = .success(try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    transfer.start(continuation, on: loop)
                }
            } onCancel: {
                transfer.cancel(on: loop)
            })
        } catch let error as TransferError {
            result = .failure(error)
        } catch {
            result = .failure(TransferError(kind: .other, message: "\(error)", url: request.url))
        }
        // The loop is done with the transfer once the continuation resumed.
        return (result, transfer.sink.wroteToFile)
    }

    /// Stops the engine thread; transfers still running fail as cancelled.
    public func shutdown() async {
        await loop.stop()
    }
}

/// Runs `body` with a new engine and shuts the engine down afterwards, also on error.
public func withTransferEngine<Result>(
    configuration: TransferEngine.Configuration = TransferEngine.Configuration(),
    logger: Logger = TransferEngine.silentLogger,
    _ body: (TransferEngine) async throws -> Result
) async throws -> Result {
    let engine = TransferEngine(configuration: configuration, logger: logger)
    do {
        let result = try await body(engine)
        await engine.shutdown()
        return result
    } catch {
        await engine.shutdown()
        throw error
    }
}
