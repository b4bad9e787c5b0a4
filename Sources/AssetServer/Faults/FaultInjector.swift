import Foundation

/// What to do to one request.
struct FaultDecision: Sendable {
    enum Status: Sendable {
        case throttle(retryAfter: Int)
        case serverError, unavailable
    }

    var latencyMilliseconds = 0
    var status: Status?
    var reset = false

    func applyLatency() async {
        if latencyMilliseconds > 0 { try? await Task.sleep(for: .milliseconds(latencyMilliseconds)) }
    }
}

/// Draws faults from the current spec with a seeded generator.
final class FaultInjector: @unchecked Sendable {
    // NSLock guards `spec` and `generator`.
    private let lock = NSLock()
    private var spec = FaultSpec()
    private var generator = SplitMix64(seed: 0)

    init(spec: FaultSpec) { replace(spec) }

    func replace(_ spec: FaultSpec) {
        lock.withLock {
            self.spec = spec
            generator = SplitMix64(seed: spec.seed ?? UInt64.random(in: 0...UInt64.max))
        }
    }

    func decide(_ routeClass: RouteClass) -> FaultDecision {
        lock.withLock {
            guard let rates = spec.rates[routeClass], rates != FaultRates() else { return FaultDecision() }
            var decision = FaultDecision(latencyMilliseconds: rates.latencyMilliseconds)
            let draw = generator.nextUnit()
            if draw < rates.rate429 {
                decision.status = .throttle(retryAfter: rates.retryAfter)
            } else if draw < rates.rate429 + rates.rate503 {
                decision.status = .unavailable
            } else if draw < rates.rate429 + rates.rate503 + rates.rate500 {
                decision.status = .serverError
            }
            decision.reset = generator.nextUnit() < rates.reset
            return decision
        }
    }
}
