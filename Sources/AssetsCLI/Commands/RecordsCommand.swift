import ArgumentParser
import AssetSync
import Foundation
import PixieBrix
import WireFormat

extension RecordOutputFormat: ExpressibleByArgument {}

struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Fetch a database's records as JSON, JSON Lines or CSV.",
        discussion: """
            Follows every page (up to 10,000 records a request) and writes them as they arrive, to stdout or to \
            FILE (written as FILE.part and renamed once complete). CSV has one header row \
            id,created_at,<data fields...>; its rows are held in a temporary file until the last page is in, \
            because a later page may bring new fields.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "The database's id.")
    var database: String

    @Option(name: .long, help: ArgumentHelp("Only records created on or after this day.", valueName: "YYYY-MM-DD"))
    var startDate: String?

    @Option(name: .long, help: ArgumentHelp("Only records created on or before this day.", valueName: "YYYY-MM-DD"))
    var endDate: String?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Only records whose data field equals this string (repeatable; the field may hold spaces and symbols).",
        valueName: "FIELD=VALUE"))
    var equals: [String] = []

    @Option(name: .customLong("null"), help: ArgumentHelp("Only records whose field is null or absent (repeatable).",
                                                          valueName: "FIELD"))
    var nullFields: [String] = []

    @Option(name: .customLong("not-null"), help: ArgumentHelp("Only records whose field is set and not null (repeatable).",
                                                              valueName: "FIELD"))
    var notNullFields: [String] = []

    @Option(name: .long, help: "json (one array), jsonl (one record a line) or csv.")
    var format: RecordOutputFormat = .json

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write to this file instead of stdout.",
                                                                                 valueName: "FILE"))
    var output: String?

    @Option(name: .long, help: "Records per request (at most 10,000).")
    var pageSize = PixieBrixClient.maxRecordsPageSize

    func validate() throws {
        try OptionCheck.id(database, option: "--database", what: "a database")
        try OptionCheck.date(startDate, option: "--start-date")
        try OptionCheck.date(endDate, option: "--end-date")
        for condition in equals { _ = try OptionCheck.fieldValue(condition, option: "--where") }
        for field in nullFields + notNullFields where field.isEmpty {
            throw ValidationError("--null and --not-null need a field name")
        }
        guard (1...PixieBrixClient.maxRecordsPageSize).contains(pageSize) else {
            throw ValidationError("--page-size must be between 1 and \(PixieBrixClient.maxRecordsPageSize)")
        }
    }

    var filter: RecordFilter {
        RecordFilter(startDate: startDate, endDate: endDate,
                     equals: equals.compactMap { try? OptionCheck.fieldValue($0, option: "--where") },
                     null: nullFields, notNull: notNullFields)
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global) { client, _ in
                try await requireDatabase(database, client: client)
                let target: OutputFile.Target = output.map { .file(($0 as NSString).expandingTildeInPath) } ?? .standardOutput
                let sink = try OutputFile(target)
                let line = LiveLine(global)
                let started = ContinuousClock.now
                let count: Int
                do {
                    var spoolDirectory = NSTemporaryDirectory()
                    if case .file(let path) = target { spoolDirectory = (path as NSString).deletingLastPathComponent }
                    count = try await RecordsDownload.run(
                        client: client, database: database, filter: filter, format: format, to: sink,
                        pageSize: pageSize, spoolDirectory: spoolDirectory.isEmpty ? "." : spoolDirectory
                    ) { progress in
                        line.update("records: \(progress.records) in \(progress.pages) page(s), "
                            + "\(LiveLine.rate(progress.records, since: started))")
                    }
                    try sink.commit()
                } catch {
                    line.finish()
                    sink.discard()
                    throw error
                }
                line.finish()
                if case .file(let path) = target, !global.quiet {
                    printError("assets: wrote \(count) record(s) to \(path)")
                }
                return .success
            }
        }
    }
}
