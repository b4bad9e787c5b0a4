#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Files that hold a token: like ssh with a private key, say so when others may read them.
enum SecretFile {
    /// Warns (without refusing) when `path` is readable by its group or by others.
    static func checkPrivate(_ path: String, what: String, warn: (String) -> Void) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let mode = info.st_mode & 0o777
        guard mode & 0o044 != 0 else { return }
        let reader = mode & 0o004 != 0 ? "everyone on this machine" : "its group"
        warn("warning: the \(what) \(path) holds a token and is readable by \(reader) (mode \(String(mode, radix: 8))); "
            + "run chmod 600 \(path)")
    }

    static func warnOnStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
