import ArgumentParser
import AssetSync
import Foundation
import PixieBrix

struct ArchivesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archives",
        abstract: "Work with a database's record archives (records moved out by the retention rule).",
        subcommands: [PullArchivesCommand.self]
    )
}

struct PullArchivesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a database's record archives into a folder, one DATE.jsonl file per date.",
        discussion: """
            Dates already complete in the folder are skipped; an interrupted run resumes where it stopped \
            (DATE.jsonl.part). Links expire after an hour: the archives are listed again for fresh ones.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The local folder.", completion: .directory)
    var folder: String

    @Option(name: .long, help: "The organization's id.")
    var organization: String

    @Option(name: .long, help: "The database's id.")
    var database: String

    @Option(name: .long, help: ArgumentHelp("Only dates on or after this day.", valueName: "YYYY-MM-DD"))
    var since: String?

    @Option(name: .long, help: "Files in flight at once.")
    var transfers = 8

    func validate() throws {
        try OptionCheck.id(organization, option: "--organization", what: "an organization")
        try OptionCheck.id(database, option: "--database", what: "a database")
        try OptionCheck.date(since, option: "--since")
        guard transfers >= 1 && transfers <= 64 else { throw ValidationError("--transfers must be between 1 and 64") }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global, transfers: transfers) { client, _ in
                let folderPath = URL(fileURLWithPath: (folder as NSString).expandingTildeInPath).standardizedFileURL.path
                let line = LiveLine(global)
                let counts = ProgressCounts()
                let json = global.json
                let puller = ArchivePuller(
                    client: client, organization: organization, database: database, folder: folderPath,
                    options: ArchivePuller.Options(since: since, transfers: transfers)
                ) { event in
                    if json { printOut(Self.json(event)) }
                    switch event {
                    case .listed(let total, let pending, _):
                        counts.set(total: total, pending: pending)
                    case .downloaded:
                        let (done, pending) = counts.increment()
                        line.update("archives: \(done)/\(pending) downloaded")
                    case .failed(let date, let reason):
                        if !json { printError("assets: archive \(date): \(reason)") }
                    case .expired, .relisted:
                        break
                    }
                }
                let summary: ArchivePullSummary
                do {
                    summary = try await puller.run()
                } catch {
                    line.finish()
                    throw error
                }
                line.finish()
                if json {
                    printOut(#"{"event":"summary","listed":\#(summary.listed),"downloaded":\#(summary.downloaded),"already_complete":\#(summary.alreadyComplete),"failed":\#(summary.failed.count),"relists":\#(summary.relists),"bytes":\#(summary.bytes)}"#)
                } else if !global.quiet {
                    var text = "archives: \(summary.downloaded) downloaded, \(summary.alreadyComplete) already complete"
                    if !summary.failed.isEmpty { text += ", \(summary.failed.count) failed" }
                    if summary.relists > 0 { text += " (listed again \(summary.relists) time(s) for fresh links)" }
                    printError(text + " in \(folderPath)")
                }
                return summary.failed.isEmpty ? .success : .someFailed
            }
        }
    }

    static func json(_ event: ArchivePullEvent) -> String {
        switch event {
        case .listed(let total, let pending, let complete):
            return #"{"event":"listed","total":\#(total),"pending":\#(pending),"already_complete":\#(complete)}"#
        case .downloaded(let date, let bytes):
            return #"{"event":"downloaded","date":\#(jsonString(date)),"bytes":\#(bytes)}"#
        case .expired(let date):
            return #"{"event":"expired","date":\#(jsonString(date))}"#
        case .relisted(let pending):
            return #"{"event":"relisted","pending":\#(pending)}"#
        case .failed(let date, let reason):
            return #"{"event":"failed","date":\#(jsonString(date)),"reason":\#(jsonString(reason))}"#
        }
    }
}

/// Files done out of files to do, shared with the puller's event callback.
private final class ProgressCounts: @unchecked Sendable {
    // @unchecked: both counters are guarded by `lock`.
    private let lock = NSLock()
    private var done = 0
    private var pending = 0

    func set(total: Int, pending: Int) { lock.withLock { self.pending = pending } }

    func increment() -> (done: Int, pending: Int) {
        lock.withLock {
            done += 1
            return (done, pending)
        }
    }
}
