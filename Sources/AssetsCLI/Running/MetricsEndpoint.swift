import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

extension MetricsServer {
    /// `/metrics` in Prometheus text format and `/healthz` (the JSON `health` gives) for a long-running command;
    /// prints the bound address as `assets <command>: metrics on URL`.
    static func application(host: String, port: Int, registry: PrometheusCollectorRegistry, command: String,
                            health: @escaping @Sendable () -> Data) -> some Service {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: health())))
        }
        var logger = Logger(label: "assets.metrics")
        logger.logLevel = .warning
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                printError("assets \(command): metrics on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)/metrics")
            },
            logger: logger)
    }

    /// A status as `/healthz` answers it: JSON, sorted keys, ISO 8601 dates.
    static func healthJSON(_ status: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(status)) ?? Data("{}".utf8)
    }
}
