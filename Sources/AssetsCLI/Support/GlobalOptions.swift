import ArgumentParser
import Foundation
import Logging

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The API's base URL (default: $PIXIEBRIX_URL or https://app.pixiebrix.com).",
                                            valueName: "url"))
    var url: String?

    @Option(name: .long, help: ArgumentHelp("Read the token from this file (default: $PIXIEBRIX_TOKEN or the profile).",
                                            valueName: "file"))
    var tokenFile: String?

    @Option(name: .long, help: "A profile of $XDG_CONFIG_HOME/pixiebrix-assets/config.toml.")
    var profile: String?

    @Flag(name: .long, help: "Print one JSON event per line on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log what happens to each file (on stderr).")
    var verbose = false

    @Flag(name: .long, help: "Allow plain http to a host that is not this machine (the token would travel unencrypted).")
    var allowInsecure = false

    var logger: Logger {
        var logger = Logger(label: "assets")
        logger.logLevel = verbose ? .info : .warning
        return logger
    }
}
