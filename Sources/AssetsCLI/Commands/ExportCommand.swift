import ArgumentParser
import AssetSync
import Foundation
import PixieBrix
import WireFormat

extension ExportFormat: ExpressibleByArgument {}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the records of one or more databases to a JSON, CSV or XLSX file through an export job.",
        discussion: """
            Creates the job, polls it until it succeeds (or fails, with the server's reason), then downloads the \
            file to FILE, or to <name>.<format> in the current folder. Prints the file's path.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "A name for the export; the file is named after it.")
    var name: String

    @Option(name: .long, help: "A database's id (repeatable).")
    var database: [String] = []

    @Option(name: .long, help: "json, csv or xlsx.")
    var format: ExportFormat = .json

    @Option(name: .long, help: ArgumentHelp("Only records created at or after this time.", valueName: "TS"))
    var startDate: String?

    @Option(name: .long, help: ArgumentHelp("Only records created at or before this time (a bare date: that whole day).",
                                            valueName: "TS"))
    var endDate: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Where to save the file.", valueName: "FILE"))
    var output: String?

    @Option(name: .long, help: "Give up waiting for the job after this many seconds.")
    var timeout: Double = 600

    func validate() throws {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name must not be empty") }
        guard !database.isEmpty else { throw ValidationError("give at least one --database") }
        for id in database { try OptionCheck.id(id, option: "--database", what: "a database") }
        try OptionCheck.timestamp(startDate, option: "--start-date")
        try OptionCheck.timestamp(endDate, option: "--end-date")
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global) { client, _ in
                let path = output.map { ($0 as NSString).expandingTildeInPath }
                    ?? ExportFetcher.fileName(exportName: name, format: format)
                let line = LiveLine(global)
                let outcome: ExportFetcher.Outcome
                do {
                    outcome = try await ExportFetcher.run(
                        client: client, name: name, databases: database, format: format, startDate: startDate,
                        endDate: endDate, path: path, timeout: .milliseconds(Int(timeout * 1000)),
                        onStatus: { job in line.update("export \(job.id): \(job.status.rawValue)") },
                        progress: { progress in line.update("downloading: \(progress.downloaded) bytes") })
                } catch {
                    line.finish()
                    throw error
                }
                line.finish()
                if global.json {
                    printOut(#"{"event":"exported","job":\#(jsonString(outcome.job.id)),"path":\#(jsonString(outcome.path)),"bytes":\#(outcome.bytes)}"#)
                } else if !global.quiet {
                    printOut(outcome.path)
                }
                return .success
            }
        }
    }
}
