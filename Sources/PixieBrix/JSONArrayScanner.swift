import Foundation
import WireFormat

/// Splits a JSON array into its top-level elements without building values, for streaming pages of records
/// through unchanged (their fields keep their order, numbers their exact text).
public enum JSONArrayScanner {
    /// Calls `element` with the bytes of each top-level element of the JSON array in `data`, with the whitespace
    /// outside strings removed (so each element fits on one line). Returns how many elements there were.
    ///
    /// - Throws: ``JSONParseError`` when `data` is not an array or its structure is broken (brackets, strings).
    @discardableResult
    public static func forEachElement(in data: Data, _ element: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        try data.withUnsafeBytes { bytes in
            var index = 0
            let count = bytes.count
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
            func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }
            while index < count, isSpace(bytes[index]) { index += 1 }
            guard index < count, bytes[index] == UInt8(ascii: "[") else { throw fail("expected a JSON array") }
            index += 1
            var scratch: [UInt8] = []
            scratch.reserveCapacity(4096)
            var elements = 0
            var depth = 0
            var inString = false
            var escaped = false
            var closed = false
            while index < count {
                let byte = bytes[index]
                index += 1
                if inString {
                    scratch.append(byte)
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case 0x20, 0x0A, 0x0D, 0x09:
                    continue
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 {
                        guard byte == UInt8(ascii: "]") else { throw fail("unbalanced '}'") }
                        if scratch.isEmpty {
                            guard elements == 0 else { throw fail("a trailing comma") }
                        } else {
                            try scratch.withUnsafeBytes(element)
                            elements += 1
                        }
                        closed = true
                    } else {
                        depth -= 1
                    }
                case UInt8(ascii: ","):
                    if depth == 0 {
                        guard !scratch.isEmpty else { throw fail("an empty element") }
                        try scratch.withUnsafeBytes(element)
                        elements += 1
                        scratch.removeAll(keepingCapacity: true)
                        continue
                    }
                default:
                    break
                }
                if closed { break }
                scratch.append(byte)
            }
            guard closed else { throw fail(inString ? "unterminated string" : "unexpected end") }
            while index < count, isSpace(bytes[index]) { index += 1 }
            guard index == count else { throw fail("trailing characters") }
            return elements
        }
    }
}
