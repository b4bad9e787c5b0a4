import Foundation

/// Slows every request to one host down when that host says it is overloaded, not just the
/// request that heard it.
///
/// An overload answer (`429`, or `503` with `Retry-After`) pauses new attempts to the host until
/// the `Retry-After` has passed and halves the requests allowed in flight there; each success
/// then allows one more, back up to the ceiling (additive increase, multiplicative decrease).
actor HostThrottle {
    private struct Host {
        var limit: Int
        var inFlight = 0
        var pausedUntil: ContinuousClock.Instant?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private var hosts: [String: Host] = [:]
    private let ceiling: Int
    /// The longest pause a `Retry-After` can impose (the engine's `maxRetryWait`).
    private let maxPause: Duration
    private let clock = ContinuousClock()

    init(ceiling: Int, maxPause: Duration = .seconds(600)) {
        self.ceiling = max(1, ceiling)
        self.maxPause = maxPause
    }

    /// Waits until the host is not paused and has room for one more request, then takes it.
    func acquire(_ host: String) async {
        while true {
            let state = hosts[host, default: Host(limit: ceiling)]
            if let until = state.pausedUntil, until > clock.now {
                try? await Task.sleep(until: until, clock: clock)
                continue
            }
            if state.inFlight < state.limit || Task.isCancelled {
                hosts[host, default: Host(limit: ceiling)].inFlight += 1
                return
            }
            await withCheckedContinuation { hosts[host, default: Host(limit: ceiling)].waiters.append($0) }
        }
    }

    /// Gives the request's place back and learns from how the host answered.
    func release(_ host: String, overloaded: Bool, retryAfter: Duration?) {
        var state = hosts[host, default: Host(limit: ceiling)]
        state.inFlight = max(0, state.inFlight - 1)
        if overloaded {
            state.limit = max(1, min(state.limit, state.inFlight + 1) / 2)
            // Clamped: an instant 2^63 s away would overflow the clock.
            let until = clock.now + min(retryAfter ?? .seconds(1), maxPause)
            if state.pausedUntil.map({ $0 < until }) ?? true { state.pausedUntil = until }
        } else if state.limit < ceiling {
            state.limit += 1
        }
        // Waiters re-check the pause and the limit themselves.
        let waiters = state.waiters
        state.waiters = []
        hosts[host] = state
        for waiter in waiters { waiter.resume() }
    }

    /// Releases after an attempt, judging the answer: `429`, or `503` with `Retry-After`, is an overload.
    func release(_ host: String, answer: Result<HTTPResponse, TransferError>) {
        guard case .success(let response) = answer, response.status == 429 || response.status == 503 else {
            release(host, overloaded: false, retryAfter: nil)
            return
        }
        let demand = RetryAfter.demand(response.headers["Retry-After"])
        // A demand beyond the cap is refused (that request fails at once): the host pauses as if none was given.
        let retryAfter = demand.flatMap { $0.exceeds(maxPause) ? nil : $0.duration }
        release(host, overloaded: response.status == 429 || demand != nil, retryAfter: retryAfter)
    }

    /// Requests are throttled per scheme, host and port.
    static func key(for url: URL) -> String {
        "\(url.scheme?.lowercased() ?? "")://\(url.host?.lowercased() ?? ""):\(url.port ?? -1)"
    }

    /// The requests currently allowed in flight to a host (for tests and diagnostics).
    func limit(of host: String) -> Int {
        hosts[host]?.limit ?? ceiling
    }
}
