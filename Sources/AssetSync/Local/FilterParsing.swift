import Foundation

/// Reads filter values as rclone writes them.
public enum FilterParsing {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// `30s`, `10m`, `2h`, `7d`, `1w`, `1M` (30 days), `1y` (365 days), `500ms`, combinations such as `1h30m`, a bare
    /// number of seconds; or an absolute date: `2006-01-02`, `2006-01-02 15:04:05`, `2006-01-02T15:04:05`
    /// (local time), or RFC 3339 with a zone.
    public static func age(_ text: String, option: String) throws(Invalid) -> AgeLimit {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = duration(trimmed) { return .duration(seconds: seconds) }
        if let date = moment(trimmed) { return .moment(date) }
        throw Invalid(description: "\(option) \(text) is neither a duration (30s, 10m, 2h, 7d, 1w, 1M, 1y) "
            + "nor a date (2006-01-02, 2006-01-02 15:04:05, RFC 3339)")
    }

    /// A duration in seconds, or nil.
    public static func duration(_ text: String) -> Double? {
        guard !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return seconds }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400),
                                         ("w", 604_800), ("M", 2_592_000), ("y", 31_536_000)]
        var total = 0.0
        var rest = Substring(text)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number), value.isFinite else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) })
            else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        // About 300 million years: beyond that no file is younger or older.
        return total.isFinite && total < 1e16 ? total : nil
    }

    static func moment(_ text: String) -> Date? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = iso.date(from: text) { return date }
        iso.formatOptions = [.withInternetDateTime]
        if let date = iso.date(from: text) { return date }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = .current
        for format in ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"] {
            local.dateFormat = format
            if let date = local.date(from: text) { return date }
        }
        return nil
    }

    /// A size in bytes: a number (decimals allowed) in KiB by default, or with a suffix `B`, `K`, `M`, `G`, `T`,
    /// `P` (binary units: 1K = 1024 bytes), optionally followed by `i`/`iB`/`B` (`10M`, `10Mi`, `10MiB`).
    public static func size(_ text: String, option: String) throws(Invalid) -> Int64 {
        let invalid = Invalid(description: "\(option) \(text) is not a size such as 100k, 10M or 1G (binary units; "
            + "a bare number is KiB)")
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        let number = rest.prefix { $0.isNumber || $0 == "." }
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { throw invalid }
        rest = rest.dropFirst(number.count)
        var multiplier = 1024.0
        if let unit = rest.first {
            let powers: [Character: Double] = ["b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5]
            guard let power = powers[Character(unit.lowercased())] else { throw invalid }
            multiplier = pow(1024, power)
            rest = rest.dropFirst()
            if power > 0 {
                if rest.first == "i" { rest = rest.dropFirst() }
                if rest.first == "B" { rest = rest.dropFirst() }
            }
        }
        guard rest.isEmpty else { throw invalid }
        let bytes = (value * multiplier).rounded()
        guard bytes < Double(Int64.max) else { throw invalid }
        return Int64(bytes)
    }

    /// `--files-from` contents: one path per line relative to the folder; blank lines and lines starting with
    /// `#` or `;` are skipped; surrounding spaces, a leading `/` or `./` are dropped.
    public static func filesFrom(_ contents: String) -> Set<String> {
        var paths: Set<String> = []
        for rawLine in contents.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            while line.hasPrefix("./") { line.removeFirst(2) }
            while line.hasPrefix("/") { line.removeFirst() }
            if !line.isEmpty { paths.insert(line) }
        }
        return paths
    }
}
