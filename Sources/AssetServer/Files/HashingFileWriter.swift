import Crypto
import Foundation

/// A file being written, with the MD5 of what went in. Small appends are buffered.
final class HashingFileWriter {
    let path: String
    private var descriptor: Int32
    private var hasher = Insecure.MD5()
    private var buffer: [UInt8] = []
    private var written: Int64 = 0
    /// Every byte appended so far, written or still buffered.
    var size: Int64 { written + Int64(buffer.count) }

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        buffer.reserveCapacity(Self.bufferSize)
    }

    static let bufferSize = 256 * 1024

    func append(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.bufferSize { try flush() }
    }

    func append(bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.bufferSize { try flush() }
    }

    /// Appends bytes the caller may reuse afterwards: small slices are copied into the buffer, large ones written
    /// through.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= Self.bufferSize - buffer.count else {
            buffer.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
            return
        }
        try flush()
        try writeThrough(bytes)
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeThrough($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeThrough(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let count = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            offset += count
        }
        self.written += Int64(bytes.count)
    }

    /// Flushes and closes the file and returns the hex MD5; the file stays for the caller to take.
    func finish() throws -> String {
        try flush()
        close(descriptor)
        descriptor = -1
        return hasher.finalize().hexString
    }

    /// Closes and deletes the file unless it was taken (moved) already.
    func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(path)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }
}
