import ArgumentParser
import AssetSync
import Foundation

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Undo push --delete: mark a withdrawn asset uploaded again.",
        discussion: """
            Restores the asset that push --delete withdrew for FILENAME from DIR (recorded in DIR's state file), \
            or the asset given with --asset. The server refuses when storage no longer holds its bytes; once \
            restored, its length and ETag are compared with what DIR's manifest recorded, and on a mismatch it is \
            withdrawn again and the command fails.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The asset's filename (the file's path relative to the pushed folder).")
    var filename: String

    @Argument(help: "The folder that ran push --delete (its state file knows what was withdrawn).", completion: .directory)
    var folder: String?

    @Option(name: .long, help: "The database's id.")
    var database: String

    @Option(name: .long, help: ArgumentHelp("The asset to restore (default: the last one DIR withdrew).", valueName: "id"))
    var asset: String?

    @Option(name: .long, help: ArgumentHelp("DIR's state file, if not the default one.", valueName: "file"))
    var state: String?

    func validate() throws {
        guard UUID(uuidString: database) != nil else {
            throw ValidationError("--database \(database) is not a database id (a UUID)")
        }
        if let asset, UUID(uuidString: asset) == nil { throw ValidationError("--asset \(asset) is not an asset id (a UUID)") }
        guard folder != nil || asset != nil else {
            throw ValidationError("give the folder that ran push --delete, or the asset's id with --asset")
        }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global) { client, settings in
                try await requireDatabase(database, client: client)
                var store: StateStore?
                if let folder {
                    let options = try FolderOptions.parse([folder, "--database", database] + (state.map { ["--state", $0] } ?? []))
                    let path = options.statePath(url: settings.url)
                    if FileManager.default.fileExists(atPath: path) { store = try StateStore.open(path: path) }
                }
                let outcome: AssetRestore.Outcome
                do {
                    outcome = try await AssetRestore(database: database, client: client, store: store)
                        .restore(filename: filename, assetID: asset?.lowercased())
                } catch let failure as AssetRestore.Failure {
                    printError("assets: restore \(filename): \(failure.description)")
                    return .someFailed
                }
                let checked = outcome.checkedAgainstRecord ? "matches what was pushed" : "no record to compare with"
                if global.json {
                    printOut(#"{"event":"restored","path":\#(jsonString(filename)),"asset":\#(jsonString(outcome.asset.id)),"#
                        + #""bytes":\#(outcome.size),"etag":\#(jsonString(outcome.etag ?? "")),"#
                        + #""was_uploaded":\#(outcome.wasUploaded),"checked":\#(outcome.checkedAgainstRecord)}"#)
                } else if !global.quiet {
                    printOut(outcome.wasUploaded
                        ? "\(filename): asset \(outcome.asset.id) is uploaded already; nothing to restore"
                        : "restored \(filename): asset \(outcome.asset.id), \(outcome.size) bytes, ETag \(outcome.etag ?? "none") (\(checked))")
                }
                return .success
            }
        }
    }
}
