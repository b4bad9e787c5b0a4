import Foundation

/// A zip archive of stored (uncompressed) entries, which is all an .xlsx container needs.
///
/// Without zip64, sizes and offsets are 32-bit: an archive that would pass `maxBytes` (4 GiB - 1 by
/// default) throws ``TooLarge`` before a byte of the entry that would not fit is written.
struct ZipWriter {
    /// The archive would exceed what a zip without zip64 can address.
    struct TooLarge: Error, CustomStringConvertible {
        var limit: UInt64
        var description: String { "the archive would exceed \(limit) bytes, the limit of a zip file without zip64" }
    }

    private struct Entry {
        var name: [UInt8]
        var crc: UInt32
        var size: UInt32
        var offset: UInt32
    }

    private let output: HashingFileWriter
    private let maxBytes: UInt64
    private var entries: [Entry] = []
    private var offset: UInt32 = 0

    init(output: HashingFileWriter, maxBytes: UInt64 = UInt64(UInt32.max)) {
        self.output = output
        self.maxBytes = min(maxBytes, UInt64(UInt32.max))
    }

    /// Checks that an entry of `size` bytes named `name`, and the central directory after it, still fit.
    private func reserve(name: String, size: Int64) throws -> UInt32 {
        let nameLength = UInt64(name.utf8.count)
        guard size >= 0, nameLength <= UInt64(UInt16.max) else { throw TooLarge(limit: maxBytes) }
        // What the directory will need: 46 bytes and the name per entry, 22 bytes at the end.
        let directory = entries.reduce(UInt64(22)) { $0 + 46 + UInt64($1.name.count) } + 46 + nameLength
        let end = UInt64(offset) + 30 + nameLength + UInt64(size) + directory
        guard end <= maxBytes, entries.count < Int(UInt16.max) else { throw TooLarge(limit: maxBytes) }
        return UInt32(size)
    }

    mutating func add(name: String, bytes: [UInt8]) throws {
        try writeHeader(name: name, crc: CRC32.of(bytes), size: try reserve(name: name, size: Int64(bytes.count)))
        try output.append(bytes: bytes)
        offset += UInt32(bytes.count)
    }

    /// Adds the contents of a finished file whose CRC-32 and size are known.
    mutating func add(name: String, file path: String, crc: UInt32, size: Int64) throws {
        try writeHeader(name: name, crc: crc, size: try reserve(name: name, size: size))
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            if count == 0 { break }
            try chunk.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        // The file may have grown since its size was taken: the header would then lie.
        guard UInt64(offset) + UInt64(size) <= maxBytes else { throw TooLarge(limit: maxBytes) }
        offset += UInt32(size)
    }

    private mutating func writeHeader(name: String, crc: UInt32, size: UInt32) throws {
        let nameBytes = Array(name.utf8)
        var header: [UInt8] = []
        header.le32(0x0403_4B50)
        header.le16(20)  // version needed
        header.le16(0x0800)  // UTF-8 names
        header.le16(0)  // stored
        header.le16(0)  // time
        header.le16(0x21)  // date: 1980-01-01
        header.le32(crc)
        header.le32(size)
        header.le32(size)
        header.le16(UInt16(nameBytes.count))
        header.le16(0)
        header += nameBytes
        entries.append(Entry(name: nameBytes, crc: crc, size: size, offset: offset))
        try output.append(bytes: header)
        offset += UInt32(header.count)
    }

    /// Writes the central directory; the archive is complete after this.
    mutating func finish() throws {
        var directory: [UInt8] = []
        for entry in entries {
            directory.le32(0x0201_4B50)
            directory.le16(20)  // made by
            directory.le16(20)  // needed
            directory.le16(0x0800)
            directory.le16(0)
            directory.le16(0)
            directory.le16(0x21)
            directory.le32(entry.crc)
            directory.le32(entry.size)
            directory.le32(entry.size)
            directory.le16(UInt16(entry.name.count))
            directory.le16(0)  // extra
            directory.le16(0)  // comment
            directory.le16(0)  // disk
            directory.le16(0)  // internal attributes
            directory.le32(0)  // external attributes
            directory.le32(entry.offset)
            directory += entry.name
        }
        var end: [UInt8] = []
        end.le32(0x0605_4B50)
        end.le16(0)
        end.le16(0)
        end.le16(UInt16(entries.count))
        end.le16(UInt16(entries.count))
        end.le32(UInt32(directory.count))
        end.le32(offset)
        end.le16(0)
        try output.append(bytes: directory + end)
    }
}

extension [UInt8] {
    fileprivate mutating func le16(_ value: UInt16) {
        append(UInt8(value & 0xFF))
        append(UInt8(value >> 8))
    }

    fileprivate mutating func le32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }
}
