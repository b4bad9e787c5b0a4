import Foundation

extension Store {
    /// Flips every bit of one byte in the middle of a blob, in place, keeping its recorded size and MD5: storage
    /// then serves bytes that differ from its own `ETag` (what a client's `--download` check must catch).
    ///
    /// - Returns: the offset changed, or nil when no object (or an empty one) is stored under `key`.
    func corruptBlob(key: String) async throws -> Int? {
        guard let object = try await object(key), object.size > 0 else { return nil }
        let descriptor = Glibc.open(blobPath(object.file), O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { Glibc.close(descriptor) }
        let offset = off_t(object.size / 2)
        var byte: UInt8 = 0
        guard pread(descriptor, &byte, 1, offset) == 1 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        byte ^= 0xFF
        guard pwrite(descriptor, &byte, 1, offset) == 1 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return Int(offset)
    }
}
