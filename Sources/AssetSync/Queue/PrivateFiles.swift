#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// State files hold presigned upload links: only their owner may read them.
enum PrivateFiles {
    /// Creates `folder` (and missing parents) when missing; a folder this creates is 0700. An existing folder
    /// keeps its mode: with `--state`, it may be one the user shares on purpose.
    static func makeFolder(_ folder: String) throws(SyncError) {
        var info = stat()
        guard stat(folder, &info) != 0 else { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw SyncError(kind: .stateFile, message: "cannot create the state folder \(folder): \(error.localizedDescription)")
        }
        chmod(folder, 0o700)
    }

    /// Makes the SQLite file at `path` exist with mode 0600 before SQLite opens it (SQLite gives `-wal` and `-shm`
    /// the database file's mode), and brings files an older version left 0644 down to 0600.
    static func prepareDatabase(_ path: String) throws(SyncError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SyncError(kind: .stateFile, message: "cannot open the state file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else {
            throw SyncError(kind: .stateFile, message: "cannot make \(path) private (0600): \(String(cString: strerror(errno)))")
        }
        for suffix in ["-wal", "-shm"] {
            let companion = open(path + suffix, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            if companion >= 0 {
                fchmod(companion, 0o600)
                close(companion)
            }
        }
    }
}
