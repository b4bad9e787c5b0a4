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

    @Option(name: .long, help: ArgumentHelp(
        "The longest Retry-After to wait for before retrying, e.g. 90s, 10m or 1h; a server that asks for more "
            + "fails that request at once (default: 10m).", valueName: "duration"))
    var maxRetryWait: String?

    func validate() throws {
        if let maxRetryWait { _ = try parseWait(maxRetryWait) }
    }

    /// `--max-retry-wait` as a duration (10 minutes when not given).
    var retryWaitCap: Duration {
        maxRetryWait.flatMap { try? parseWait($0) } ?? .seconds(600)
    }

    var logger: Logger {
        var logger = Logger(label: "assets", factory: { TerminalSafeLogHandler.standardError(label: $0) })
        logger.logLevel = verbose ? .info : .warning
        return logger
    }
}

/// Parses `90`, `90s`, `10m` or `1h` (at most a day) for `--max-retry-wait`.
func parseWait(_ text: String) throws -> Duration {
    let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
    var digits = Substring(text)
    var multiplier = 1
    if let last = digits.last, let unit = units[last] {
        multiplier = unit
        digits = digits.dropLast()
    }
    guard let value = Int(digits), value >= 0, value <= 86_400 / multiplier else {
        throw ValidationError("--max-retry-wait \(text) is not a duration like 90s, 10m or 1h (at most 24h)")
    }
    return .seconds(value * multiplier)
}
