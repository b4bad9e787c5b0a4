import AssetSync
import Foundation
import Transfer

/// Prints a ``CheckReport``: lists by class and counts, JSON events, or rclone's combined lines.
struct CheckOutput {
    var report: CheckReport
    var json: Bool
    var quiet: Bool
    /// `--combined`: a file, or `-` for stdout.
    var combined: String?

    func print() throws {
        if let combined {
            let lines = report.entries.map { "\($0.outcome.rawValue) \(TerminalText.escape($0.path))" }
            if combined == "-" {
                for line in lines { printOut(line) }
            } else {
                let text = lines.map { $0 + "\n" }.joined()
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: combined), options: .atomic)
                } catch {
                    throw CLIError("cannot write --combined \(combined): \(error.localizedDescription)")
                }
            }
        }
        if json {
            for entry in report.entries {
                var line = #"{"event":"check","status":\#(jsonString(entry.outcome.name)),"path":\#(jsonString(entry.path))"#
                if let detail = entry.detail { line += #","detail":\#(jsonString(detail))"# }
                printOut(line + "}")
            }
            printOut(#"{"event":"check-summary","matching":\#(report.count(.match)),"only_local":\#(report.count(.onlyLocal)),"#
                + #""only_remote":\#(report.count(.onlyRemote)),"differing":\#(report.count(.differ)),"#
                + #""errors":\#(report.count(.error)),"from_manifest":\#(report.fromManifest),"#
                + #""downloaded":\#(report.downloaded),"agree":\#(report.agrees)}"#)
            return
        }
        if quiet { return }
        // With `--combined -` the lines are on stdout already: the rest goes to stderr.
        let toStderr = combined == "-"
        func say(_ line: String) { if toStderr { printError(line) } else { printOut(line) } }
        if combined != "-" {
            for (outcome, heading) in [(CheckReport.Outcome.onlyLocal, "only in the folder"),
                                       (.onlyRemote, "only in the database"), (.differ, "differing"), (.error, "errors")] {
                let entries = report.entries.filter { $0.outcome == outcome }
                guard !entries.isEmpty else { continue }
                say("\(heading) (\(entries.count)):")
                for entry in entries { say("  \(entry.path)" + (entry.detail.map { "  (\($0))" } ?? "")) }
            }
        }
        say("\(report.count(.match)) matching, \(report.count(.onlyLocal)) only in the folder, "
            + "\(report.count(.onlyRemote)) only in the database, \(report.count(.differ)) differing, "
            + "\(report.count(.error)) errors: " + (report.agrees ? "they agree" : "they differ"))
    }
}
