import ArgumentParser
import AssetSync
import Foundation

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a database's assets into a folder (the newest uploaded one per filename).",
        discussion: "An interrupted download resumes from its last byte on the next run."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: FolderOptions

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

    func validate() throws {
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
