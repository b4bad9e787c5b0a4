import Foundation

/// Why CSV text could not be read, with the byte offset.
public struct CSVParseError: Error, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "malformed CSV at byte \(offset): \(reason)" }
}

/// Reads RFC 4180 rows from bytes; accepts CRLF or LF line ends.
public struct CSVReader {
    private let bytes: [UInt8]
    /// Where the next row starts.
    public private(set) var offset: Int

    public init(_ data: Data, from offset: Int = 0) {
        bytes = [UInt8](data)
        self.offset = offset
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    /// The next row's fields, or nil at the end.
    public mutating func nextRow() throws -> [String]? {
        guard offset < bytes.count else { return nil }
        var fields: [String] = []
        var field: [UInt8] = []
        var index = offset
        var quoted = false
        var afterQuote = false
        func endRow(_ next: Int) -> [String] {
            fields.append(String(decoding: field, as: UTF8.self))
            offset = next
            return fields
        }
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == 0x22 {
                    if index + 1 < bytes.count, bytes[index + 1] == 0x22 {
                        field.append(0x22)
                        index += 2
                        continue
                    }
                    quoted = false
                    afterQuote = true
                } else {
                    field.append(byte)
                }
                index += 1
                continue
            }
            switch byte {
            case 0x2C:
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                afterQuote = false
            case 0x0A:
                return endRow(index + 1)
            case 0x0D:
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                    throw CSVParseError(offset: index, reason: "a CR without LF outside quotes")
                }
                return endRow(index + 2)
            case 0x22:
                guard field.isEmpty, !afterQuote else {
                    throw CSVParseError(offset: index, reason: "a quote inside an unquoted field")
                }
                quoted = true
            default:
                guard !afterQuote else { throw CSVParseError(offset: index, reason: "text after a closing quote") }
                field.append(byte)
            }
            index += 1
        }
        if quoted { throw CSVParseError(offset: index, reason: "an unterminated quoted field") }
        return endRow(bytes.count)
    }

    /// Skips the next row without building its fields; returns false at the end.
    public mutating func skipRow() throws -> Bool {
        guard offset < bytes.count else { return false }
        var index = offset
        var quoted = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                quoted.toggle()
            } else if !quoted && byte == 0x0A {
                offset = index + 1
                return true
            }
            index += 1
        }
        if quoted { throw CSVParseError(offset: index, reason: "an unterminated quoted field") }
        offset = bytes.count
        return true
    }
}
