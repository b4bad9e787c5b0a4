import ArgumentParser
import AssetSync
import Foundation

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload a folder's new and changed files to a database.",
        discussion: """
            Re-running uploads only what changed. Killing it and re-running finishes the job without \
            re-sending what was done and without duplicate assets.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: FolderOptions

    @Option(name: .long, help: "Files in flight at once.")
    var transfers = 8

    @Flag(name: .long, help: "Print the plan and change nothing.")
    var dryRun = false

    @Option(name: .long, help: "meta: check the server's record and storage's MD5; content: also download and compare SHA-256.")
    var verify: String = "meta"

    @Option(name: .long, help: ArgumentHelp("Only files matching this glob (repeatable).", valueName: "glob"))
    var include: [String] = []

    @Option(name: .long, help: ArgumentHelp("Leave out files matching this glob (repeatable).", valueName: "glob"))
    var exclude: [String] = []

    @Option(name: .long, help: ArgumentHelp("Cap each upload's rate, e.g. 500k, 10M.", valueName: "rate"))
    var bwlimit: String?

    func validate() throws {
        guard transfers >= 1 && transfers <= 256 else { throw ValidationError("--transfers must be between 1 and 256") }
        guard VerifyMode(rawValue: verify) != nil else { throw ValidationError("--verify must be meta or content") }
        if let bwlimit { _ = try parseRate(bwlimit) }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global, transfers: transfers) { client, settings in
                try await requireDatabase(target.database, client: client)
                let store = try target.openStore(url: settings.url)
                var options = PushOptions()
                options.transfers = transfers
                options.verify = VerifyMode(rawValue: verify) ?? .meta
                options.include = include
                options.exclude = exclude
                options.bandwidthLimit = try bwlimit.map(parseRate)
                let reporter = Reporters.make(global, verb: "push")
                let pusher = Pusher(folder: target.absoluteFolder, database: target.database, client: client,
                                    store: store, options: options, reporter: reporter, logger: global.logger)
                if dryRun {
                    let plan = try await pusher.plan()
                    printPlan(plan)
                    return .success
                }
                let summary = try await reporter.finishing { try await pusher.push() }
                return summary.failed > 0 ? .someFailed : .success
            }
        }
    }

    private func printPlan(_ plan: PushPlan) {
        if global.json {
            for file in plan.uploads { printOut(#"{"event":"plan","action":"upload","path":\#(jsonString(file.path)),"bytes":\#(file.size)}"#) }
            for path in plan.resumed { printOut(#"{"event":"plan","action":"resume","path":\#(jsonString(path))}"#) }
            printOut(#"{"event":"planned","files":\#(plan.uploads.count + plan.resumed.count),"bytes":\#(plan.bytes),"unchanged":\#(plan.unchanged + plan.presentRemotely.count)}"#)
            return
        }
        for file in plan.uploads { printOut("upload  \(file.path)  (\(file.size) bytes)") }
        for path in plan.resumed { printOut("resume  \(path)") }
        for problem in plan.problems { printError("assets: \(problem.path): \(problem.reason)") }
        printOut("\(plan.uploads.count) to upload (\(plan.bytes) bytes), \(plan.resumed.count) to resume, "
            + "\(plan.unchanged + plan.presentRemotely.count) unchanged")
    }
}

func jsonString(_ text: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
