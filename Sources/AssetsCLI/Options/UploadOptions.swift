import ArgumentParser
import AssetSync

/// Options of the commands that upload (`push`, `watch`): how many at once, how to verify, which
/// files, how fast.
struct UploadOptions: ParsableArguments {
    @Option(name: .long, help: "Files in flight at once.")
    var transfers = 8

    @Option(name: .long, help: "meta: check the server's record and storage's MD5; content: also download and compare SHA-256.")
    var verify: String = "meta"

    @Option(name: .long, help: ArgumentHelp("Only files matching this glob (repeatable).", valueName: "glob"))
    var include: [String] = []

    @Option(name: .long, help: ArgumentHelp("Leave out files matching this glob (repeatable).", valueName: "glob"))
    var exclude: [String] = []

    @Option(name: .long, help: ArgumentHelp("Cap each upload's rate, e.g. 500k, 10M.", valueName: "rate"))
    var bwlimit: String?

    @Option(name: .long, help: ArgumentHelp("Retries per file within the run after a transient failure (429, 5xx, a "
        + "broken connection), with backoff; a file also gives up after 15 minutes.", valueName: "n"))
    var retries = RetryBudget().retries

    func validate() throws {
        guard retries >= 0 && retries <= 1000 else { throw ValidationError("--retries must be between 0 and 1000") }
        guard transfers >= 1 && transfers <= 256 else { throw ValidationError("--transfers must be between 1 and 256") }
        guard VerifyMode(rawValue: verify) != nil else { throw ValidationError("--verify must be meta or content") }
        if let bwlimit { _ = try parseRate(bwlimit) }
    }

    /// The push options these stand for.
    func pushOptions() throws -> PushOptions {
        var options = PushOptions()
        options.transfers = transfers
        options.verify = VerifyMode(rawValue: verify) ?? .meta
        options.include = include
        options.exclude = exclude
        options.bandwidthLimit = try bwlimit.map(parseRate)
        options.retryBudget.retries = retries
        return options
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
    // `Int(exactly:)`: a rate past what an Int holds (or `inf`) is refused rather than trapping.
    guard let value = Double(digits), value > 0, let rate = Int(exactly: (value * Double(multiplier)).rounded(.down)), rate > 0
    else {
        throw ValidationError("--bwlimit \(text) is not a rate like 500k, 10M or 1G (bytes per second)")
    }
    return rate
}
