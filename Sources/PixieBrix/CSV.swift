import Foundation

/// RFC 4180 text as the records endpoint writes it: CRLF line ends, a field quoted when it holds a comma, a
/// quote or a line break, quotes doubled inside.
public enum CSV {
    /// One field, made formula-safe (``formulaSafe(_:)``), then quoted when needed.
    public static func field(_ text: String) -> String {
        let text = formulaSafe(text)
        // Bytes, not Characters: "\r\n" is one Character in Swift and would slip past a Character test.
        guard text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A cell a spreadsheet would run as a formula, defused (OWASP "CSV Injection"): text starting with
    /// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets show as text
    /// and do not evaluate. A plain number such as `-5` or `+1.5e3` is left alone (it computes nothing),
    /// and so is text that already starts with `'`, so that applying the rule twice changes nothing.
    public static func formulaSafe(_ text: String) -> String {
        guard let first = text.utf8.first, formulaTriggers.contains(first), !isPlainNumber(text) else { return text }
        return "'" + text
    }

    private static let formulaTriggers: Set<UInt8> = [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D]

    /// A JSON-style number with an optional leading `+`: `-12`, `+3.5`, `-1e-9`.
    static func isPlainNumber(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if let sign = bytes.first, sign == 0x2B || sign == 0x2D { bytes = bytes.dropFirst() }
        func digits() -> Int {
            let count = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        guard digits() > 0 else { return false }
        if bytes.first == 0x2E {
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        }
        if let e = bytes.first, e == 0x65 || e == 0x45 {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == 0x2B || sign == 0x2D { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }

    /// One row with its CRLF.
    public static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\r\n" }
}

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
