import ArgumentParser
import AssetSync
import Foundation

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Say whether a folder and a database agree (as rclone check does).",
        discussion: """
            Compares each file with the newest uploaded asset of its filename, by size and MD5: storage's ETag \
            (read with a one-byte ranged GET), or the manifest when it is current on both sides; --download \
            hashes the remote bytes instead. The push's ignore rules apply to both sides. Changes nothing. \
            Exit status: 0 when they agree, 1 when they differ or a file could not be compared, 2 or more for \
            the errors of the other commands.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: FolderOptions

    @Flag(name: .long, help: "Download and hash each remote file instead of trusting storage's ETag or the manifest.")
    var download = false

    @Flag(name: .long, help: "Only check that the folder's files are in the database (files only there are not reported).")
    var oneWay = false

    @Option(name: .long, help: ArgumentHelp("Write one line per file to FILE ('-' for stdout): '= ' same, '- ' only "
        + "local, '+ ' only remote, '* ' different, '! ' error.", valueName: "file"))
    var combined: String?

    @Option(name: .long, help: ArgumentHelp("Only files matching this glob (repeatable).", valueName: "glob"))
    var include: [String] = []

    @Option(name: .long, help: ArgumentHelp("Leave out files matching this glob (repeatable).", valueName: "glob"))
    var exclude: [String] = []

    @Option(name: .long, help: "Files compared at once.")
    var transfers = 8

    func validate() throws {
        guard transfers >= 1 && transfers <= 256 else { throw ValidationError("--transfers must be between 1 and 256") }
        if combined == "-" && global.json { throw ValidationError("--combined - and --json both want stdout; give --combined a file") }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global, transfers: transfers) { client, settings in
                try await requireDatabase(target.database, client: client)
                let statePath = target.statePath(url: settings.url)
                let store = FileManager.default.fileExists(atPath: statePath)
                    ? try StateStore.openForReading(path: statePath) : nil
                var options = CheckOptions()
                options.include = include
                options.exclude = exclude
                options.download = download
                options.oneWay = oneWay
                options.transfers = transfers
                let report = try await FolderCheck(folder: target.absoluteFolder, database: target.database, client: client,
                                                   store: store, options: options).run()
                try CheckOutput(report: report, json: global.json, quiet: global.quiet, combined: combined).print()
                return report.agrees ? .success : .someFailed
            }
        }
    }
}
