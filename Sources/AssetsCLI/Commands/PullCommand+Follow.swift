import ArgumentParser
import AssetSync
import Foundation
import Logging
import PixieBrix
import Prometheus
import ServiceLifecycle

/// `assets pull --follow`: the continuous pull, run as a service like `assets watch`.
extension PullCommand {
    func runFollow(client: PixieBrixClient, store: StateStore, options: PullOptions) async throws -> ExitStatus {
        var follow = FollowOptions()
        follow.pull = options
        follow.interval = try Self.parseInterval(interval)
        follow.grace = grace
        let registry = PrometheusCollectorRegistry()
        var logger = Logger(label: "assets.follow")
        logger.logLevel = global.verbose ? .debug : global.quiet ? .warning : .info
        let service = FollowService(
            folder: target.absoluteFolder, database: target.database, client: client, store: store, options: follow,
            reporter: global.json ? JSONLinesReporter() : SilentReporter(), logger: logger,
            metricsFactory: PrometheusMetricsFactory(registry: registry))
        var services = [ServiceGroupConfiguration.ServiceConfiguration]()
        if let metrics {
            let (host, port) = try WatchCommand.parseAddress(metrics)
            services.append(.init(service: MetricsServer.application(
                host: host, port: port, registry: registry, command: "pull",
                health: { MetricsServer.healthJSON(service.status()) })))
        }
        // The group shuts services down in reverse order: the pull drains before /metrics stops.
        services.append(.init(service: FollowLifecycle(service: service),
                              successTerminationBehavior: .gracefullyShutdownGroup,
                              failureTerminationBehavior: .gracefullyShutdownGroup))
        try await WatchCommand.runUntilSignalled(services)
        return .success
    }

    /// `--interval`: a duration such as 30s, 500ms, 1m (more than zero, at most a day).
    static func parseInterval(_ text: String) throws -> Double {
        guard let seconds = FilterParsing.duration(text), seconds > 0, seconds <= 86_400 else {
            throw ValidationError("--interval \(text) is not a duration such as 30s, 500ms or 5m (more than 0, at most 24h)")
        }
        return seconds
    }
}

/// Runs the continuous pull inside a ServiceGroup: a graceful shutdown (SIGINT, SIGTERM) drains it.
struct FollowLifecycle: Service {
    let service: FollowService

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await service.run()
        } onGracefulShutdown: { [service] in
            service.shutdown()
        }
    }
}
