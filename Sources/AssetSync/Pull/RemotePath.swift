/// Turns a remote filename into a safe path relative to the pull folder, or says why it can't.
///
/// `/` makes subfolders; leading slashes, empty and `.` segments are dropped; `..`, NUL and
/// control characters are refused, so nothing is ever written outside the folder.
public enum RemotePath {
    public static func localPath(for filename: String) -> Result<String, RemotePathError> {
        if filename.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return .failure(RemotePathError(filename: filename, reason: "it contains control characters"))
        }
        var segments: [Substring] = []
        for segment in filename.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                return .failure(RemotePathError(filename: filename, reason: "it climbs out of the folder with .."))
            }
            if segment.utf8.count > 255 {
                return .failure(RemotePathError(filename: filename, reason: "a path segment is longer than 255 bytes"))
            }
            segments.append(segment)
        }
        guard let last = segments.last else {
            return .failure(RemotePathError(filename: filename, reason: "it names no file"))
        }
        if last.hasSuffix(".part") {
            return .failure(RemotePathError(filename: filename, reason: "names ending in .part are kept for partial downloads"))
        }
        return .success(segments.joined(separator: "/"))
    }
}

public struct RemotePathError: Error, Equatable, CustomStringConvertible {
    public var filename: String
    public var reason: String
    public var description: String { "unsafe remote filename \(filename.debugDescription): \(reason)" }
}
