import Synchronization
import Foundation
import Testing
@testable import Transfer

/// An engine configuration that fails fast in tests.
func testConfiguration(
    maxConnections: Int = 64,
    maxConnectionsPerHost: Int = 16,
    lowSpeedLimit: Int = 1,
    lowSpeedTime: Duration = .seconds(10)
) -> TransferEngine.Configuration {
    var configuration = TransferEngine.Configuration()
    configuration.maxConnections = maxConnections
    configuration.maxConnectionsPerHost = maxConnectionsPerHost
    configuration.connectTimeout = .seconds(5)
    configuration.lowSpeedLimit = lowSpeedLimit
    configuration.lowSpeedTime = lowSpeedTime
    return configuration
}

/// Runs `body` with a fresh temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = try TestData.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Awaits `body`, expecting a ``TransferError``; returns it (nil, recorded as an issue, if none came).
func transferError(_ body: () async throws -> Void) async -> TransferError? {
    do {
        try await body()
        return nil
    } catch let error as TransferError {
        return error
    } catch {
        return nil
    }
}

/// Cancels `task` and expects it to fail as cancelled within a few seconds.
func expectPromptCancellation<T: Sendable>(of task: Task<T, any Error>,
                                           sourceLocation: SourceLocation = #_sourceLocation) async {
    let cancelledAt = ContinuousClock.now
    task.cancel()
    let error = await transferError { _ = try await task.value }
    #expect(error?.kind == .cancelled, sourceLocation: sourceLocation)
    #expect(ContinuousClock.now - cancelledAt < .seconds(5), sourceLocation: sourceLocation)
}

func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse) throws -> T {
    try JSONDecoder().decode(type, from: response.body)
}

/// Collects values from `@Sendable` callbacks.
final class Collector<Value: Sendable>: Sendable {
    private let stored = Mutex<[Value]>([])
    func append(_ value: Value) { stored.withLock { $0.append(value) } }
    var values: [Value] { stored.withLock { $0 } }
}

extension URL {
    var filePath: String { path }
}
