import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Starts the server, runs `body`, and stops the server gracefully, also when `body` throws.
///
/// ```swift
/// try await withAssetServer(.init(dataDirectory: tmp, port: 0)) { server in
///     // talk to server.url with "Authorization: Token \(server.token)"
/// }
/// ```
/// - Parameters:
///   - configuration: where the data lives and where to listen.
///   - logger: the server's logger; by default nothing is logged.
///   - body: runs while the server listens.
/// - Returns: what `body` returns.
/// - Throws: when the data directory cannot be opened, the port cannot be bound, or `body` throws.
public func withAssetServer<R: Sendable>(
    _ configuration: AssetServerConfiguration,
    logger: Logger = Logger(label: "assets.server", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: (RunningAssetServer) async throws -> R
) async throws -> R {
    let (application, started, state) = try await AssetServerLauncher.makeApplication(configuration, logger: logger)
    let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { started.continuation.finish() }
            try await group.run()
        }
        var ports = started.stream.makeAsyncIterator()
        guard let port = await ports.next() else {
            do {
                try await tasks.waitForAll()
            } catch {
                await state.store.db.close()
                throw error
            }
            await state.store.db.close()
            throw AssetServerError(description: "the server stopped before it listened")
        }
        let running = AssetServerLauncher.running(configuration, port: port, state: state)
        do {
            let result = try await body(running)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            await state.exports.waitForAll()
            await state.store.db.close()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            await state.exports.waitForAll()
            await state.store.db.close()
            throw error
        }
    }
}

/// A failure to start the server.
public struct AssetServerError: Error, CustomStringConvertible {
    public var description: String
}

/// Builds the Hummingbird application and runs it in the foreground (`assets serve`); ``withAssetServer(_:logger:_:)``
/// runs it around a body instead.
public enum AssetServerLauncher {
    /// Runs until SIGINT or SIGTERM, then stops gracefully; calls `onStart` once listening.
    public static func run(
        _ configuration: AssetServerConfiguration, logger: Logger,
        onStart: @Sendable (RunningAssetServer) -> Void
    ) async throws {
        let (application, started, state) = try await makeApplication(configuration, logger: logger)
        let group = ServiceGroup(
            services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { started.continuation.finish() }
                try await group.run()
            }
            for await port in started.stream {
                onStart(running(configuration, port: port, state: state))
            }
            try await tasks.waitForAll()
        }
        await state.exports.waitForAll()
        await state.store.db.close()
    }

    static func makeApplication(_ configuration: AssetServerConfiguration, logger: Logger) async throws -> (
        some Service, (stream: AsyncStream<Int>, continuation: AsyncStream<Int>.Continuation), ServerState
    ) {
        let state = try await ServerState(configuration: configuration, logger: logger)
        var services: [any Service] = [NightlyArchiving(state: state, interval: configuration.archiveInterval,
                                                                claimPause: configuration.archiveClaimPause)]
        if state.isShared {
            services.append(ExportJobSweeper(state: state, interval: configuration.exportSweepInterval))
            services.append(ClockFollower(state: state))
        }
        let started = AsyncStream<Int>.makeStream()
        let application = Application(
            responder: ServerResponder(state: state),
            // A connection that sends nothing for two minutes (while idle or sending a request) is closed.
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        ConnectionLimitHandler(counter: state.connections), ExpectContinueHandler(),
                    ], idleTimeout: .minutes(2))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                state.listening(host: configuration.host, port: port)
                started.continuation.yield(port)
                started.continuation.finish()
            },
            logger: logger
        )
        return (application, (started.stream, started.continuation), state)
    }

    static func running(_ configuration: AssetServerConfiguration, port: Int, state: ServerState) -> RunningAssetServer
    {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return RunningAssetServer(
            url: URL(string: "http://\(host):\(port)")!, token: state.mainToken, organizationID: state.organizationID,
            linkBase: state.linkBase)
    }
}
