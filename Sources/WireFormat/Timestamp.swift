import Foundation

/// Microseconds since 1970 in UTC: the resolution of the API's times.
public typealias Micros = Int64

/// The API's timestamps: ISO 8601 in UTC with up to six fraction digits, written as the server writes
/// them (`2024-11-15T20:42:47.670046Z`, no fraction when it is zero), read from any ISO 8601 form;
/// also the `YYYY-MM-DD` dates of filters and archives and the `x-amz-date` form of storage signatures.
/// Pure calendar arithmetic: no locale, no time zone database, the same on every platform.
public enum Timestamp {
    public static let microsPerSecond: Int64 = 1_000_000
    public static let microsPerDay: Int64 = 86_400 * microsPerSecond

    /// The microsecond of `date`, rounded; clamped to what `Micros` can hold, so that no date traps.
    public static func micros(_ date: Date) -> Micros {
        let value = (date.timeIntervalSince1970 * 1_000_000).rounded()
        guard value.isFinite else { return value > 0 ? .max : .min }
        return Micros(exactly: value) ?? (value > 0 ? .max : .min)
    }

    public static func date(_ micros: Micros) -> Date {
        Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// Any ISO 8601 form ``parseISO(_:)`` reads, as a `Date`.
    public static func parse(_ text: String) -> Date? {
        parseISO(text).map(date)
    }

    /// `date` as the server writes it (see ``iso(_:)``).
    public static func format(_ date: Date) -> String {
        iso(micros(date))
    }

    /// `2024-11-15T20:42:47.670046Z`, or `2024-11-15T20:42:47Z` when the fraction is zero.
    public static func iso(_ micros: Micros) -> String {
        let (seconds, fraction) = floorDivide(micros, microsPerSecond)
        var out = dateTime(seconds)
        if fraction != 0 { out += "." + pad(Int(fraction), 6) }
        return out + "Z"
    }

    /// `YYYY-MM-DD` of a day number (days since 1970-01-01).
    public static func date(day: Int64) -> String {
        let (seconds, overflow) = day.multipliedReportingOverflow(by: 86_400)
        return String(dateTime(overflow ? (day < 0 ? .min : .max) : seconds).prefix(10))
    }

    public static func day(_ micros: Micros) -> Int64 { floorDivide(micros, microsPerDay).0 }

    /// `20240101T000000Z`, the form of `x-amz-date`.
    public static func amzDate(_ micros: Micros) -> String {
        let text = dateTime(floorDivide(micros, microsPerSecond).0)
        return text.filter { $0 != "-" && $0 != ":" } + "Z"
    }

    public static func parseAmzDate(_ text: String) -> Micros? {
        let chars = Array(text)
        guard chars.count == 16, chars[8] == "T", chars[15] == "Z" else { return nil }
        let iso =
            "\(String(chars[0..<4]))-\(String(chars[4..<6]))-\(String(chars[6..<8]))T"
            + "\(String(chars[9..<11])):\(String(chars[11..<13])):\(String(chars[13..<15]))Z"
        return parseISO(iso)
    }

    /// Day number of a strict `YYYY-MM-DD`.
    public static func parseDate(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = number(parts[0]), let month = number(parts[1]), let day = number(parts[2]),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        return daysFromCivil(year: year, month: month, day: day)
    }

    /// ISO 8601: a date (midnight UTC), or a date-time with optional fraction and a `Z` or `±HH:MM` offset
    /// (none means UTC).
    public static func parseISO(_ text: String) -> Micros? {
        if let day = parseDate(text) { return day * microsPerDay }
        let chars = Array(text)
        guard chars.count >= 19, chars[10] == "T" || chars[10] == " ", let day = parseDate(String(chars[0..<10])),
            chars[13] == ":", chars[16] == ":",
            let hour = number(chars[11..<13]), let minute = number(chars[14..<16]),
            let second = number(chars[17..<19]), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if index < chars.count, chars[index] == "." {
            index += 1
            var digits = ""
            while index < chars.count, chars[index].isASCII, chars[index].isNumber {
                digits.append(chars[index])
                index += 1
            }
            guard !digits.isEmpty else { return nil }
            let six = String((digits + "000000").prefix(6))
            fraction = Int64(six)!
        }
        var offsetSeconds: Int64 = 0
        let rest = String(chars[index...])
        if rest == "Z" || rest.isEmpty {
            offsetSeconds = 0
        } else if rest.count == 6, let sign = rest.first, sign == "+" || sign == "-",
            Array(rest)[3] == ":", let oh = number(rest.dropFirst().prefix(2)), let om = number(rest.suffix(2))
        {
            offsetSeconds = Int64((oh * 60 + om) * 60) * (sign == "-" ? -1 : 1)
        } else {
            return nil
        }
        let seconds = day * 86_400 + Int64(hour * 3600 + minute * 60 + second) - offsetSeconds
        return seconds * microsPerSecond + fraction
    }

    /// The value of a run of ASCII digits (`Int(_:)` would also take a sign).
    private static func number(_ digits: some Collection<Character>) -> Int? {
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isWholeNumber }) else { return nil }
        return Int(String(digits))
    }

    // MARK: Civil calendar (proleptic Gregorian, H. Hinnant's algorithms)

    private static func dateTime(_ seconds: Int64) -> String {
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        let hour = Int(secondOfDay / 3600)
        let minute = Int(secondOfDay / 60 % 60)
        let second = Int(secondOfDay % 60)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 {
            q -= 1
            r += b
        }
        return (q, r)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let d = Int64(day)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}
