import Crypto
import Foundation

/// MD5 (what storage's `ETag` holds) and SHA-256 of a file, computed in one streaming pass.
public struct FileDigest: Sendable, Equatable {
    public var md5: String
    public var sha256: String
    public var size: Int64

    /// Reads the file in 1 MiB chunks; memory stays flat whatever its size.
    public static func of(path: String) throws -> FileDigest {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var md5 = Insecure.MD5()
        var sha = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            md5.update(data: chunk)
            sha.update(data: chunk)
            size += Int64(chunk.count)
        }
        return FileDigest(md5: md5.finalize().hex, sha256: sha.finalize().hex, size: size)
    }

    var pair: (md5: String, sha256: String?) { (md5, sha256) }

    /// The MD5 alone, for checking a download against its `ETag`.
    public static func md5(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        var md5 = Insecure.MD5()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { md5.update(data: chunk) }
        return md5.finalize().hex
    }
}

extension Sequence where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
