import ArgumentParser
import AssetSync
import Crypto
import Foundation
import PixieBrix
import Transfer

/// Runs a command's body and turns what it throws into a message on stderr and an exit code.
func runCommand(_ body: () async throws -> ExitStatus) async throws {
    let status: ExitStatus
    do {
        status = try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        printError("assets: error: \(error)")
        status = ExitStatus.of(error)
    }
    if status != .success { throw ExitCode(status.rawValue) }
}

/// An API client for one command, with its engine shut down afterwards.
func withClient<R>(_ options: GlobalOptions, transfers: Int = 8,
                   _ body: (PixieBrixClient, Settings) async throws -> R) async throws -> R {
    let settings = try Settings.resolve(options)
    let token = try settings.requireToken()
    var configuration = TransferEngine.Configuration()
    configuration.maxConnectionsPerHost = max(16, transfers * 2)
    configuration.maxConnections = max(64, transfers * 4)
    configuration.maxRetryWait = options.retryWaitCap
    return try await withTransferEngine(configuration: configuration, logger: options.logger) { engine in
        let client = try PixieBrixClient(baseURL: settings.url, token: token, engine: engine,
                                         allowInsecure: options.allowInsecure, logger: options.logger)
        return try await body(client, settings)
    }
}

/// Checks that the database exists and the token may read it, with an error that says which.
func requireDatabase(_ id: String, client: PixieBrixClient) async throws {
    do {
        _ = try await client.database(id)
    } catch let error as PixieBrixError where error.kind == .notFound {
        throw CLIError("database \(id) was not found at \(client.baseURL) (check --database and --url)")
    }
}

/// Options shared by the commands that sync a folder.
struct FolderOptions: ParsableArguments {
    @Argument(help: "The local folder.", completion: .directory)
    var folder: String

    @Option(name: .long, help: "The database's id.")
    var database: String

    @Option(name: .long, help: ArgumentHelp("The state file (default: one per server, database and folder under "
        + "$XDG_STATE_HOME/pixiebrix-assets/).", valueName: "file"))
    var state: String?

    func validate() throws {
        guard UUID(uuidString: database) != nil else {
            throw ValidationError("--database \(database) is not a database id (a UUID)")
        }
    }

    var absoluteFolder: String {
        URL(fileURLWithPath: (folder as NSString).expandingTildeInPath).standardizedFileURL.path
    }

    /// Opens this folder's state file.
    func openStore(url: URL) throws -> StateStore {
        try StateStore.open(path: statePath(url: url))
    }

    func statePath(url: URL) -> String {
        if let state { return URL(fileURLWithPath: (state as NSString).expandingTildeInPath).standardizedFileURL.path }
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/state")
        let folderPath = URL(fileURLWithPath: absoluteFolder).resolvingSymlinksInPath().path
        let key = SHA256.hash(data: Data("\(url.absoluteString)\n\(database)\n\(folderPath)".utf8))
            .prefix(8).map { String(format: "%02x", $0) }.joined()
        let name = (folderPath as NSString).lastPathComponent.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return "\(base)/pixiebrix-assets/\(name.isEmpty ? "root" : name)-\(key).sqlite"
    }
}

/// Parses a rate such as `500k`, `10M` or `1G` (bytes per second, powers of 1024).
func parseRate(_ text: String) throws -> Int {
    let units: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30]
    var digits = text
    var multiplier = 1
    if let last = digits.last, let unit = units[last] {
        multiplier = unit
        digits.removeLast()
    }
    guard let value = Double(digits), value > 0 else {
        throw ValidationError("--bwlimit \(text) is not a rate like 500k, 10M or 1G (bytes per second)")
    }
    return Int(value * Double(multiplier))
}
