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
    @OptionGroup var upload: UploadOptions
    @OptionGroup var filters: FilterOptions

    @Flag(name: .long, help: "Print the plan and change nothing.")
    var dryRun = false

    @Flag(name: [.customShort("L"), .long],
          help: """
              Follow symlinks and push the item they point to, under the link's name, when it is inside DIR \
              (links leading outside DIR are still skipped). Without it every symlink is skipped and reported.
              """)
    var followSymlinks = false

    @Flag(name: .long, help: """
        After a push in which every file succeeded, withdraw (PATCH is_uploaded: false; the API cannot delete) the \
        newest uploaded asset of each file an earlier push of this folder uploaded and that is gone from it; never \
        an asset pushed from elsewhere. `assets restore FILENAME` undoes it.
        """)
    var delete = false

    func run() async throws {
        try await runCommand {
            try await withClient(global, transfers: upload.transfers) { client, settings in
                try await requireDatabase(target.database, client: client)
                let store = try target.openStore(url: settings.url)
                var options = try upload.pushOptions()
                options.followSymlinks = followSymlinks
                options.filter = try filters.filter()
                options.checksum = filters.checksum
                let reporter = Reporters.make(global, verb: "push")
                let pusher = Pusher(folder: target.absoluteFolder, database: target.database, client: client,
                                    store: store, options: options, reporter: reporter, logger: global.logger)
                if dryRun {
                    let plan = try await pusher.plan()
                    printPlan(plan)
                    if delete { MirrorOutput(json: global.json).print(try await pusher.withdrawGone(dryRun: true), dryRun: true) }
                    return .success
                }
                guard delete else {
                    let summary = try await reporter.finishing { try await pusher.push() }
                    return summary.failed > 0 ? .someFailed : .success
                }
                let (summary, withdrawal) = try await MirrorOutput.sayingWhyNothingWent(verb: "withdrawn") {
                    try await reporter.finishing { try await pusher.pushDeleting() }
                }
                MirrorOutput(json: global.json).print(withdrawal, dryRun: false)
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
        for link in plan.skippedLinks { printError("assets: \(Pusher.skippedLinkNotice(link))") }
        printOut("\(plan.uploads.count) to upload (\(plan.bytes) bytes), \(plan.resumed.count) to resume, "
            + "\(plan.unchanged + plan.presentRemotely.count) unchanged")
    }
}

func jsonString(_ text: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
