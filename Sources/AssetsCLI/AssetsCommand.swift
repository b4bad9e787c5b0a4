import ArgumentParser

/// The `assets` command line.
public struct AssetsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "assets",
        abstract: "Move files between local folders and PixieBrix database assets.",
        subcommands: [ServeCommand.self]
    )

    public init() {}
}
