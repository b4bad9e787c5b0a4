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
            StatusCommand.self,
            RetryCommand.self,
        ]
    )

    public init() {}
}
