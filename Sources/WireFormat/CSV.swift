import Foundation

/// RFC 4180 text as the records endpoint writes it: CRLF line ends, a field quoted when it holds a comma, a
/// quote or a line break, quotes doubled inside, and cells a spreadsheet would run as formulas defused.
/// The client and the server write CSV only through this, so both apply the same formula rule.
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
