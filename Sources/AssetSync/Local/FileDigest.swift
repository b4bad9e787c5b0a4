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

    /// The same, read with `pread` from an open file (from its first byte, leaving its offset alone).
    public static func of(descriptor: Int32) throws -> FileDigest {
        let read = try hash(descriptor: descriptor, sha256: true)
        return FileDigest(md5: read.md5, sha256: read.sha256 ?? "", size: read.size)
    }

    /// The MD5 alone (what the `ETag` is checked against) read from an open file, as ``of(descriptor:)`` does.
    public static func md5(descriptor: Int32) throws -> String {
        try hash(descriptor: descriptor, sha256: false).md5
    }

    private static func hash(descriptor: Int32, sha256 wantsSHA256: Bool) throws
        -> (md5: String, sha256: String?, size: Int64) {
        var md5 = Insecure.MD5()
        var sha: SHA256? = wantsSHA256 ? SHA256() : nil
        var size: Int64 = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(size)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            if count == 0 { break }
            chunk.withUnsafeBytes { bytes in
                let read = UnsafeRawBufferPointer(rebasing: bytes.prefix(count))
                md5.update(bufferPointer: read)
                sha?.update(bufferPointer: read)
            }
            size += Int64(count)
        }
        return (md5.finalize().hex, sha?.finalize().hex, size)
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
