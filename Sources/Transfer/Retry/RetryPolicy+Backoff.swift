import Foundation

extension RetryPolicy {
    /// The pause before the attempt after `attempt` (1-based): full jitter over the capped
    /// exponential bound, raised to `retryAfter` when the server asked for at least that.
    ///
    /// - Parameter unitRandom: a value in `0...1` (injected for tests).
    func delay(after attempt: Int, retryAfter: Duration?, unitRandom: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(0, attempt - 1), 62)
        let base = baseDelay.seconds
        let bound = min(maxDelay.seconds, base * pow(2, Double(exponent)))
        let jittered = Duration.seconds(max(0, bound) * min(1, max(0, unitRandom)))
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    /// Whether a failure of this kind is worth another attempt under this policy.
    func retries(_ error: TransferError) -> Bool {
        guard retryTransportErrors else { return false }
        switch error.kind {
        case .dns, .connect, .timeout, .stalled, .connectionLost: return true
        default: return false
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The `Retry-After` header: delay seconds or an HTTP date (RFC 9110 §10.2.3).
///
/// The value comes from the server, so nothing here may trap: seconds beyond `Int64` saturate, dates
/// far away are clamped, and the caller compares the demand with its cap before sleeping on it.
public enum RetryAfter {
    /// What the server asked for.
    struct Demand: Sendable, Equatable {
        /// The header as sent (cut to 64 characters), for messages.
        var text: String
        /// The wait in whole seconds, rounded up and saturated at `Int64.max`.
        var seconds: Int64

        var duration: Duration { .seconds(seconds) }

        /// Whether the wait is longer than `cap`.
        func exceeds(_ cap: Duration) -> Bool {
            seconds > cap.components.seconds
        }
    }

    public static func parse(_ value: String?, now: Date = Date()) -> Duration? {
        demand(value, now: now)?.duration
    }

    static func demand(_ value: String?, now: Date = Date()) -> Demand? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        let text = String(value.prefix(64))
        if value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return Demand(text: text, seconds: Int64(value) ?? Int64.max)
        }
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: value) {
                return Demand(text: text, seconds: wholeSeconds(date.timeIntervalSince(now)))
            }
        }
        return nil
    }

    /// Non-negative seconds rounded up, saturated at `Int64.max` (also for NaN and infinities).
    static func wholeSeconds(_ interval: Double) -> Int64 {
        guard interval > 0 else { return 0 }
        guard interval < 9.0e18 else { return Int64.max }
        return Int64(interval.rounded(.up))
    }

    /// IMF-fixdate first, then the two obsolete forms recipients must accept.
    private static let formats = ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"]
}
