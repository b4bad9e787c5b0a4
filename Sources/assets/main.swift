import ArgumentParser
import AssetsCLI

/// Calls the async entry point: a plain `await AssetsCommand.main()` here resolves to the synchronous one.
func runAsync<Command: AsyncParsableCommand>(_ command: Command.Type) async { await command.main() }

await runAsync(AssetsCommand.self)
