import Foundation
import PixieBrix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs `assets push`/`pull` of the built binary against a fixture's server, each folder with its own state file.
struct FilterChecksumCLI {
    let fixture: Fixture

    func run(_ command: String, _ folder: String, database: String? = nil, _ extra: [String] = [],
             input: Data? = nil) async throws -> CLI.Outcome {
        let state = fixture.scratch.path("state-\(command)-\(Self.stateName(folder))-\(database ?? fixture.database).sqlite")
        return try await CLI.run([command, folder, "--database", database ?? fixture.database,
                                  "--url", fixture.server.url.absoluteString, "--state", state] + extra,
                                 environment: ["PIXIEBRIX_TOKEN": fixture.server.token], input: input)
    }

    /// A fresh database on the fixture's server.
    func newDatabase() async throws -> String {
        try await fixture.client.createDatabase(name: "filters-\(UUID().uuidString.prefix(8))").id
    }

    /// The filenames that have an uploaded asset in `database`.
    func uploadedNames(_ database: String) async throws -> Set<String> {
        Set(try await fixture.client.assets(database: database).filter(\.isUploaded).map(\.filename))
    }

    private static func stateName(_ folder: String) -> String {
        String(folder.split(separator: "/").last ?? "root")
    }
}

/// The regular files under `root`, relative.
func localNames(_ root: String) throws -> Set<String> {
    Set(try treeDigest(root).keys)
}

/// Sets a file's modification (and access) time to `seconds` since 1970.
func setMtime(_ path: String, secondsSince1970 seconds: Int) throws {
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}

/// The file's modification time, exactly.
func mtimeSpec(_ path: String) throws -> timespec {
    var info = stat()
    guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return info.st_mtim
}

/// Rewrites a file in place (same inode, no truncation) with `bytes` of its own size, then sets its modification
/// time back to what it was: size, modification time and inode all stay.
func rewriteInPlaceKeepingStamp(_ path: String, with bytes: Data) throws {
    let before = try mtimeSpec(path)
    var info = stat()
    stat(path, &info)
    let inode = info.st_ino
    precondition(Int(info.st_size) == bytes.count, "the rewrite must keep the size")
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.write(contentsOf: bytes)
    try handle.close()
    var times = [before, before]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    var after = stat()
    stat(path, &after)
    #expect(after.st_ino == inode && after.st_size == info.st_size && after.st_mtim.tv_sec == before.tv_sec
        && after.st_mtim.tv_nsec == before.tv_nsec, "the rewrite kept size, modification time and inode")
}

/// Lines of a `-v` run's stderr saying that `--checksum` read a file to hash it.
func hashedLines(_ outcome: CLI.Outcome) -> [String] {
    outcome.stderr.split(separator: "\n").map(String.init).filter { $0.contains("hashed to compare") }
}
