import ArgumentParser
import AssetSync
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
