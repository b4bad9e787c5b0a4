import ArgumentParser
import AssetSync
import CoreMetrics
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// `assets watch`: a drop folder run as a service.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Upload each file that lands in a folder once it is complete, until stopped.",
        discussion: """
            A file is uploaded once it has been closed after writing, renamed into the folder, or left with the \
            same size and modification time for --settle seconds. Editors' swap files and partial downloads \
            (*.swp, *~, *.part, *.tmp, .#*, dotfiles) are ignored. Uses the same durable queue as push: stopped at \
            any moment and started again, it resumes its jobs and uploads what arrived meanwhile. SIGINT or \
            SIGTERM: no new work, files in flight get --grace seconds to finish, the rest stays queued, exit 0. \
            Logs one line per file on stderr.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: FolderOptions
    @OptionGroup var upload: UploadOptions

    @Option(name: .long, help: "Seconds a file's size and modification time must stay unchanged when it was not seen closed.")
    var settle = 2.0

    @Option(name: .long, help: "Seconds between full rescans that catch anything the events missed.")
    var rescan = 300.0

    @Option(name: .long, help: "Seconds that files in flight get to finish on SIGINT or SIGTERM.")
    var grace = 30.0

    @Option(name: .long, help: ArgumentHelp("Serve /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9464.",
                                            valueName: "host:port"))
    var metrics: String?

    @Flag(name: .long, help: "Upload editors' swap and temporary files too (*.swp, *~, *.tmp, #*#; never dotfiles or *.part).")
    var includeTemporary = false

    func validate() throws {
        guard settle >= 0 else { throw ValidationError("--settle must be 0 or more seconds") }
        guard rescan > 0 else { throw ValidationError("--rescan must be more than 0 seconds") }
        guard grace >= 0 else { throw ValidationError("--grace must be 0 or more seconds") }
        if let metrics { _ = try Self.parseAddress(metrics) }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global, transfers: upload.transfers) { client, settings in
                try await requireDatabase(target.database, client: client)
                let store = try target.openStore(url: settings.url)
                var options = WatchOptions()
                options.push = try upload.pushOptions()
                options.settle = settle
                options.rescan = rescan
                options.grace = grace
                options.ignoreTemporaryNames = !includeTemporary

                let registry = PrometheusCollectorRegistry()
                let service = WatchService(
                    folder: target.absoluteFolder, database: target.database, client: client, store: store,
                    options: options, reporter: global.json ? JSONLinesReporter() : SilentReporter(),
                    logger: watchLogger, metricsFactory: PrometheusMetricsFactory(registry: registry))
                var services = [ServiceGroupConfiguration.ServiceConfiguration]()
                if let metrics {
                    let (host, port) = try Self.parseAddress(metrics)
                    services.append(.init(service: MetricsServer.application(host: host, port: port, registry: registry,
                                                                             service: service)))
                }
                // The group shuts services down in reverse order: the watch drains before /metrics stops.
                services.append(.init(service: WatchLifecycle(service: service),
                                      successTerminationBehavior: .gracefullyShutdownGroup,
                                      failureTerminationBehavior: .gracefullyShutdownGroup))
                try await Self.runUntilSignalled(services)
                return .success
            }
        }
    }

    /// Runs a long-lived command's services until SIGTERM or SIGINT, shutting them down in reverse order
    /// (the work drains before `/metrics` stops); the lifecycle library's own logging stays quiet.
    static func runUntilSignalled(_ services: [ServiceGroupConfiguration.ServiceConfiguration]) async throws {
        var quiet = Logger(label: "assets.lifecycle")
        quiet.logLevel = .critical
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet))
        try await group.run()
    }

    /// One line per file at info level on stderr; `--quiet` keeps warnings, `-v` adds debug lines.
    private var watchLogger: Logger {
        var logger = Logger(label: "assets.watch")
        logger.logLevel = global.verbose ? .debug : global.quiet ? .warning : .info
        return logger
    }

    static func parseAddress(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port)
        else {
            throw ValidationError("--metrics \(text) is not HOST:PORT, e.g. 127.0.0.1:9464")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}

/// Runs the watch service inside a ServiceGroup: a graceful shutdown (SIGINT, SIGTERM) drains it.
struct WatchLifecycle: Service {
    let service: WatchService

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await service.run()
        } onGracefulShutdown: { [service] in
            service.shutdown()
        }
    }
}

/// `/metrics` in Prometheus text format and `/healthz`, with Hummingbird.
enum MetricsServer {
    static func application(host: String, port: Int, registry: PrometheusCollectorRegistry,
                            service: WatchService) -> some Service {
        application(host: host, port: port, registry: registry, command: "watch",
                    health: { healthJSON(service.status()) })
    }
}
