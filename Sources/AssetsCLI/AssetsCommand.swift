import ArgumentParser

/// The `assets` command line.
public struct AssetsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "assets",
        abstract: "Move files between local folders and PixieBrix database assets.",
        discussion: """
            Exit codes: 0 all done, 1 some files failed, 2 usage or configuration error, \
            3 authentication or permission, 4 server unreachable.
            """,
        version: "0.1.0",
        subcommands: [
            DatabasesCommand.self,
            ListCommand.self,
            PushCommand.self,
            PullCommand.self,
            CheckCommand.self,
            RestoreCommand.self,
            WatchCommand.self,
            StatusCommand.self,
            RetryCommand.self,
            RecordsCommand.self,
            ExportCommand.self,
            ArchivesCommand.self,
            ServeCommand.self,
        ]
    )

    public init() {}
}

#if canImport(Glibc)
import Glibc
#endif

extension AssetsCommand {
    /// Parses and runs, with docs/architecture.md's exit codes: a usage error exits 2 (not ArgumentParser's 64).
    public static func runMain(_ arguments: [String]? = nil) async {
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                // Usage text is ours and spans lines: each line is printed (and escaped) on its own.
                if !message.isEmpty {
                    for line in message.split(separator: "\n", omittingEmptySubsequences: false) { printError(String(line)) }
                }
                Glibc.exit(2)
            }
            self.exit(withError: error)
        }
    }
}
