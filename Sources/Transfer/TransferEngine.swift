import Foundation
import Logging

/// Runs HTTP transfers on one libcurl multi handle driven by a dedicated thread.
///
/// Requests beyond the connection limits wait inside the engine, not in threads. Use one engine
/// for many requests so that connections are reused.
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
        /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` fails as stalled.
        public var lowSpeedLimit: Int = 1
        public var lowSpeedTime: Duration = .seconds(30)
        /// Prefer HTTP/2 over TLS where the server offers it, and multiplex.
        public var http2: Bool = true
        public var userAgent: String = "assets/0.1 libcurl"
        /// Caps the whole engine's rate in bytes per second per transfer when set, unless a request sets its own.
        public var bandwidthLimit: Int?

        public init() {}
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "assets.transfer")) {
        self.configuration = configuration
        fatalError("TransferEngine is not implemented yet")
    }

    /// Carries out a request, retrying per its ``RetryPolicy``.
    ///
    /// - Returns: the response for any HTTP status (after retries on retryable statuses run out).
    /// - Throws: ``TransferError`` for transport failures, local I/O, cancellation, oversized bodies.
    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        fatalError("TransferEngine is not implemented yet")
    }

    /// Stops the engine thread; transfers still running fail as cancelled.
    public func shutdown() async {}
}

/// Runs `body` with a new engine and shuts the engine down afterwards, also on error.
public func withTransferEngine<Result>(
    configuration: TransferEngine.Configuration = TransferEngine.Configuration(),
    logger: Logger = Logger(label: "assets.transfer"),
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
