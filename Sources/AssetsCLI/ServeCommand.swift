import ArgumentParser
import AssetServer
import Foundation
import Logging

/// `assets serve`: a local, persistent server that speaks the PixieBrix Database API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a local, persistent server that speaks the PixieBrix Database API.",
        discussion: """
            Metadata lives in SQLite and blobs in files under --data; the token is generated and saved there on \
            first start unless --token is given. Stops cleanly on SIGINT or SIGTERM.
            """
    )

    @Option(name: .long, help: "Data folder (default: $XDG_DATA_HOME/pixiebrix-assets/server).")
    var data: String?

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free port).")
    var port = 8710

    @Option(name: .long, help: "API token to accept (default: the one saved in the data folder).")
    var token: String?

    @Option(name: .long, help: ArgumentHelp(
        "The base URL links in answers start with, when clients reach the server by another address (a proxy); "
            + "default: the listening address. Never taken from a request's Host header.", valueName: "url"))
    var publicURL: String?

    @Option(name: .long, help: "Fault injection, e.g. rate429=0.05,rate500=0.02,reset=0.01,latency=20ms,seed=7.")
    var faults: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        if let publicURL {
            guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host?.isEmpty == false, url.query == nil
            else { throw ValidationError("--public-url must be an http(s)://host[:port][/path] URL.") }
        }
        if let token, token.isEmpty || token.contains(where: \.isWhitespace) {
            throw ValidationError("--token must be non-empty and without spaces.")
        }
    }

    func run() async throws {
        let directory = data ?? Self.defaultDataDirectory()
        var configuration = AssetServerConfiguration(
            dataDirectory: directory, host: host, port: port, token: token, faults: faults)
        configuration.publicURL = publicURL
        var logger = Logger(label: "assets.serve", factory: { TerminalSafeLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        do {
            try await AssetServerLauncher.run(configuration, logger: logger) { server in
                let banner = """
                    assets serve: listening on \(server.url.absoluteString)\(server.linkBase == server.url.absoluteString ? "" : ", links to \(server.linkBase)")
                    token: \(server.token)
                    organization: \(server.organizationID)
                    data: \(directory)

                    """
                FileHandle.standardOutput.write(Data(banner.utf8))
            }
        } catch {
            printError("assets serve: \(error)")
            throw ExitCode.failure
        }
    }

    static func defaultDataDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return base + "/pixiebrix-assets/server"
    }
}
