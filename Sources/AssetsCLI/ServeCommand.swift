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
            Metadata lives in SQLite under --data, blobs in files there too or in an S3 bucket (--blobs); the token \
            is generated and saved in --data on first start unless --token is given. With --metadata \
            postgresql://user@host:port/database, metadata (token and signing secret included) lives in PostgreSQL \
            instead, and several replicas started with the same URL, the same --data folder and the same --blobs \
            serve the same data. Stops cleanly on SIGINT or SIGTERM.
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

    @Option(name: .long, help: ArgumentHelp(
        "Where metadata lives: sqlite (server.sqlite in --data) or postgresql://user@host:port/database"
            + "[?schema=NAME&sslmode=require]; a password may come from PGPASSWORD.", valueName: "url"))
    var metadata = "sqlite"

    @Option(name: .long, help: ArgumentHelp(
        "Seconds an export job stays with its replica without renewal before another takes it over.",
        visibility: .hidden))
    var exportLease: Double = 30

    @Option(name: .long, help: ArgumentHelp(
        "Milliseconds to pause after each batch an export writes (tests: a job still running).", visibility: .hidden))
    var exportBatchPauseMs = 0

    @Option(name: .long, help: ArgumentHelp(
        "Seconds between nightly archiving passes (one per interval across replicas).", visibility: .hidden))
    var archiveInterval: Double = 3600

    @Option(name: .long, help: ArgumentHelp(
        "Milliseconds a replica holds its claim of an archiving pass open (tests: two replicas claiming at once).",
        visibility: .hidden))
    var archiveClaimPauseMs = 0

    @Option(name: .long, help: ArgumentHelp(
        "Live records a database keeps before archiving moves its oldest dates out (tests: a lower limit).",
        visibility: .hidden))
    var maxLiveRecords = 500_000

    @Option(name: .long, help: "Fault injection, e.g. rate429=0.05,rate500=0.02,reset=0.01,latency=20ms,seed=7.")
    var faults: String?

    @Option(name: .long, help: ArgumentHelp(
        "Where asset bytes, exports and archives live: `file` (under --data) or s3://BUCKET[/PREFIX], with "
            + "credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.", valueName: "url"))
    var blobs = "file"

    @Option(name: .long, help: ArgumentHelp(
        "The S3 endpoint for --blobs s3:// (any S3-compatible service); default: AWS's endpoint of --s3-region.",
        valueName: "url"))
    var s3Endpoint: String?

    @Option(name: .long, help: "The S3 region to sign for.")
    var s3Region = "us-east-1"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        if let publicURL {
            guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host?.isEmpty == false, url.query == nil
            else { throw ValidationError("--public-url must be an http(s)://host[:port][/path] URL.") }
        }
        do {
            _ = try MetadataLocation(parsing: metadata)
        } catch {
            throw ValidationError("\(error)")
        }
        guard exportLease.isFinite, (0.3...86_400).contains(exportLease) else {
            throw ValidationError("--export-lease must be between 0.3 and 86400 seconds.")
        }
        guard (0...600_000).contains(exportBatchPauseMs) else {
            throw ValidationError("--export-batch-pause-ms must be between 0 and 600000.")
        }
        guard archiveInterval.isFinite, (0.5...86_400).contains(archiveInterval) else {
            throw ValidationError("--archive-interval must be between 0.5 and 86400 seconds.")
        }
        guard (0...60_000).contains(archiveClaimPauseMs) else {
            throw ValidationError("--archive-claim-pause-ms must be between 0 and 60000.")
        }
        guard (0...500_000).contains(maxLiveRecords) else {
            throw ValidationError("--max-live-records must be between 0 and 500000.")
        }
        if let token, token.isEmpty || token.contains(where: \.isWhitespace) {
            throw ValidationError("--token must be non-empty and without spaces.")
        }
        _ = try blobsConfiguration()
    }

    func run() async throws {
        let directory = data ?? Self.defaultDataDirectory()
        var configuration = AssetServerConfiguration(
            dataDirectory: directory, host: host, port: port, token: token, faults: faults)
        configuration.publicURL = publicURL
        let blobStore = try blobsConfiguration()
        configuration.blobs = blobStore
        let location = try MetadataLocation(parsing: metadata)
        configuration.metadata = location
        configuration.exportLease = .milliseconds(Int64((exportLease * 1000).rounded()))
        configuration.exportBatchPause = .milliseconds(exportBatchPauseMs)
        configuration.archiveInterval = .milliseconds(Int64((archiveInterval * 1000).rounded()))
        configuration.archiveClaimPause = .milliseconds(archiveClaimPauseMs)
        configuration.limits.maxLiveRecords = maxLiveRecords
        var logger = Logger(label: "assets.serve", factory: { TerminalSafeLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        do {
            try await AssetServerLauncher.run(configuration, logger: logger) { server in
                let banner = """
                    assets serve: listening on \(server.url.absoluteString)\(server.linkBase == server.url.absoluteString ? "" : ", links to \(server.linkBase)")
                    token: \(server.token)
                    organization: \(server.organizationID)
                    data: \(directory)
                    metadata: \(location.redacted)
                    blobs: \(blobStore)

                    """
                FileHandle.standardOutput.write(Data(banner.utf8))
            }
        } catch {
            printError("assets serve: \(error)")
            throw ExitCode.failure
        }
    }

    func blobsConfiguration() throws -> BlobsConfiguration {
        do {
            return try BlobsConfiguration.parse(
                blobs, endpoint: s3Endpoint, region: s3Region, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
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
