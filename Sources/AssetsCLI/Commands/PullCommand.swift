import ArgumentParser
import AssetSync
import Foundation

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a database's assets into a folder (the newest uploaded one per filename).",
        discussion: """
            An interrupted download resumes from its last byte on the next run. With --follow it keeps running: \
            every --interval it reads what changed in the listing (newest first) and downloads new assets \
            through the same durable queue; SIGINT or SIGTERM lets files in flight finish (--grace seconds) \
            and exits 0.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: FolderOptions
    @OptionGroup var filters: FilterOptions

    @Option(name: .long, help: "Files in flight at once.")
    var transfers = 8

    @Flag(name: .long, help: "Print the plan and change nothing.")
    var dryRun = false

    @Option(name: .long, help: ArgumentHelp("Only files matching this glob (repeatable).", valueName: "glob"))
    var include: [String] = []

    @Option(name: .long, help: ArgumentHelp("Leave out files matching this glob (repeatable).", valueName: "glob"))
    var exclude: [String] = []

    @Option(name: .long, help: ArgumentHelp("meta: check length and storage's MD5 (ETag); content: also record the SHA-256.",
                                            valueName: "meta|content"))
    var verify: String = "meta"

    @Flag(name: .long, help: "Replace local files that differ from the remote ones (by default they are kept and reported).")
    var overwrite = false

    @Flag(name: .long, help: """
        After a complete pull in which every file succeeded, remove the local files an earlier pull wrote whose \
        filename no longer has an uploaded asset (never a file no pull wrote, nor one changed since).
        """)
    var delete = false

    @Option(name: .long, help: ArgumentHelp("Retries per file (and of the listing) within the run after a transient "
        + "failure, with backoff; a file also gives up after 15 minutes.", valueName: "n"))
    var retries = RetryBudget().retries

    @Flag(name: .long, help: "Keep running: poll the listing every --interval and download new assets until stopped.")
    var follow = false

    @Option(name: .long, help: ArgumentHelp("With --follow, the time between polls, e.g. 30s, 1s, 5m.", valueName: "duration"))
    var interval = "30s"

    @Option(name: .long, help: "With --follow, seconds that files in flight get to finish on SIGINT or SIGTERM.")
    var grace = 30.0

    @Option(name: .long, help: ArgumentHelp("With --follow, serve /metrics (Prometheus) and /healthz on this address, "
        + "e.g. 127.0.0.1:9464.", valueName: "host:port"))
    var metrics: String?

    func validate() throws {
        if follow {
            guard !dryRun else { throw ValidationError("--dry-run and --follow cannot go together") }
            guard !delete else {
                throw ValidationError("--delete and --follow cannot go together: --delete acts after a complete pull, and --follow never completes")
            }
            _ = try Self.parseInterval(interval)
            guard grace >= 0 else { throw ValidationError("--grace must be 0 or more seconds") }
            if let metrics { _ = try WatchCommand.parseAddress(metrics) }
        } else if metrics != nil {
            throw ValidationError("--metrics needs --follow")
        }
        guard retries >= 0 && retries <= 1000 else { throw ValidationError("--retries must be between 0 and 1000") }
        guard transfers >= 1 && transfers <= 256 else { throw ValidationError("--transfers must be between 1 and 256") }
        guard VerifyMode(rawValue: verify) != nil else { throw ValidationError("--verify must be meta or content") }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global, transfers: transfers) { client, settings in
                try await requireDatabase(target.database, client: client)
                try FileManager.default.createDirectory(atPath: target.absoluteFolder, withIntermediateDirectories: true)
                let store = try target.openStore(url: settings.url)
                var options = PullOptions()
                options.transfers = transfers
                options.include = include
                options.exclude = exclude
                options.overwrite = overwrite
                options.retryBudget.retries = retries
                options.verify = VerifyMode(rawValue: verify) ?? .meta
                options.filter = try filters.filter()
                options.checksum = filters.checksum
                if follow { return try await runFollow(client: client, store: store, options: options) }
                let reporter = Reporters.make(global, verb: "pull")
                let puller = Puller(folder: target.absoluteFolder, database: target.database, client: client,
                                    store: store, options: options, reporter: reporter, logger: global.logger)
                if dryRun {
                    let plan = try await puller.plan()
                    for download in plan.downloads { printOut("download  \(download.path)") }
                    for path in plan.resumed { printOut("resume  \(path)") }
                    for refusal in plan.refused { printError("assets: \(refusal.path): \(refusal.reason)") }
                    printOut("\(plan.downloads.count) to download, \(plan.resumed.count) to resume, "
                        + "\(plan.unchanged) unchanged, \(plan.refused.count) refused")
                    if delete { MirrorOutput(json: global.json).print(try puller.deletionPlan(plan), dryRun: true) }
                    return .success
                }
                guard delete else {
                    let summary = try await reporter.finishing { try await puller.pull() }
                    return summary.failed > 0 ? .someFailed : .success
                }
                let (summary, deletion) = try await MirrorOutput.sayingWhyNothingWent(verb: "removed") {
                    try await reporter.finishing { try await puller.pullDeleting() }
                }
                MirrorOutput(json: global.json).print(deletion, dryRun: false)
                return summary.failed > 0 ? .someFailed : .success
            }
        }
    }
}
