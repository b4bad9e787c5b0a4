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
public enum RetryAfter {
    public static func parse(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return .seconds(max(0, seconds)) }
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: value) {
                return .seconds(max(0, date.timeIntervalSince(now)))
            }
        }
        return nil
    }

    /// IMF-fixdate first, then the two obsolete forms recipients must accept.
    private static let formats = ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"]
}
