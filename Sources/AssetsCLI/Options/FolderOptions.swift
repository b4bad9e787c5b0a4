import ArgumentParser
import AssetSync
import Crypto
import Foundation

/// Options shared by the commands that sync a folder.
struct FolderOptions: ParsableArguments {
    @Argument(help: "The local folder.", completion: .directory)
    var folder: String

    @Option(name: .long, help: "The database's id.")
    var database: String

    @Option(name: .long, help: ArgumentHelp("The state file (default: one per server, database and folder under "
        + "$XDG_STATE_HOME/pixiebrix-assets/).", valueName: "file"))
    var state: String?

    func validate() throws {
        guard UUID(uuidString: database) != nil else {
            throw ValidationError("--database \(database) is not a database id (a UUID)")
        }
    }

    var absoluteFolder: String {
        URL(fileURLWithPath: (folder as NSString).expandingTildeInPath).standardizedFileURL.path
    }

    /// Opens this folder's state file.
    func openStore(url: URL) throws -> StateStore {
        try StateStore.open(path: statePath(url: url))
    }

    func statePath(url: URL) -> String {
        if let state { return URL(fileURLWithPath: (state as NSString).expandingTildeInPath).standardizedFileURL.path }
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/state")
        let folderPath = URL(fileURLWithPath: absoluteFolder).resolvingSymlinksInPath().path
        let key = SHA256.hash(data: Data("\(url.absoluteString)\n\(database)\n\(folderPath)".utf8))
            .prefix(8).map { String(format: "%02x", $0) }.joined()
        let name = (folderPath as NSString).lastPathComponent.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return "\(base)/pixiebrix-assets/\(name.isEmpty ? "root" : name)-\(key).sqlite"
    }
}
