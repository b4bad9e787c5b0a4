import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a command's output goes: standard output, or a file written as `FILE.part` and renamed into place
/// once complete, so that a failed run never leaves a truncated `FILE`. Writes are buffered.
///
/// The part is made inside `FILE`'s folder with ``ConfinedFolder/openPart(for:resume:)``: a link planted as
/// `FILE.part` is removed, never written through, and the part is 0600 until it takes the umask mode in place.
public final class OutputFile {
    public enum Target: Sendable, Equatable {
        case standardOutput
        case file(String)
    }

    public let target: Target
    private var descriptor: Int32
    private let part: PartFile?
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 16
    public private(set) var bytesWritten: Int64 = 0

    public init(_ target: Target) throws {
        self.target = target
        switch target {
        case .standardOutput:
            descriptor = STDOUT_FILENO
            part = nil
        case .file(let path):
            let opened = try ConfinedFolder.openPart(beside: path, resume: false)
            part = opened
            descriptor = opened.descriptor
        }
        buffer.reserveCapacity(Self.bufferSize)
    }


    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize {
            try Self.writeAll(descriptor, bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += Int64(bytes.count)
    }

    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try Self.writeAll(descriptor, $0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes; a file is synced to disk and renamed into place.
    public func commit() throws {
        try flush()
        guard let part else { return }
        descriptor = -1
        try part.commit()
    }

    /// Drops what was written to a file (standard output keeps what it got).
    public func discard() {
        if let part, descriptor >= 0 {
            descriptor = -1
            part.discard()
        } else {
            try? flush()
        }
    }

    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw error("cannot write the output")
            }
            done += count
        }
    }

    static func error(_ message: String) -> SyncError {
        SyncError(kind: .localFolder, message: "\(message): \(String(cString: strerror(errno)))")
    }
}

/// An anonymous temporary file (unlinked at once, so nothing is left behind even after a crash) that is
/// appended to and read back by byte range.
final class Spool {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private(set) var size: Int64 = 0

    init(directory: String = NSTemporaryDirectory()) throws {
        var template = Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
            + Array("assets-spool-XXXXXX".utf8CString)
        descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw OutputFile.error("cannot create a temporary file in \(directory)") }
        unlink(String(cString: template))
    }

    deinit { close(descriptor) }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        size += Int64(bytes.count)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func append(_ text: String) throws {
        var text = text
        try text.withUTF8 { try append(UnsafeRawBufferPointer($0)) }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try OutputFile.writeAll(descriptor, $0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Bytes `start ..< start + length` (flush first).
    func read(from start: Int64, length: Int) throws -> Data {
        var data = Data(count: length)
        var done = 0
        try data.withUnsafeMutableBytes { target in
            while done < length {
                let count = pread(descriptor, target.baseAddress! + done, length - done, off_t(start) + off_t(done))
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw OutputFile.error("cannot read a temporary file") }
                done += count
            }
        }
        return data
    }

    /// Copies a byte range to `output` in chunks (flush first).
    func copy(from start: Int64, length: Int64, to output: OutputFile) throws {
        var done: Int64 = 0
        while done < length {
            let chunk = Int(min(length - done, 1 << 20))
            try output.write(try read(from: start + done, length: chunk))
            done += Int64(chunk)
        }
    }
}
