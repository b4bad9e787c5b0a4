import Foundation
import Synchronization
import Testing

@testable import Transfer

@Suite("host-wide throttling")
struct HostThrottleTests {
    @Test("an overload halves the requests allowed in flight; successes grow it back by one each")
    func aimd() async throws {
        let throttle = HostThrottle(ceiling: 8)
        for _ in 0..<8 { await throttle.acquire("h") }
        await throttle.release("h", overloaded: true, retryAfter: .zero)
        #expect(await throttle.limit(of: "h") == 4)
        await throttle.release("h", overloaded: false, retryAfter: nil)
        #expect(await throttle.limit(of: "h") == 5)
        #expect(await throttle.limit(of: "other") == 8)
    }

    @Test("after an overload, a request waits while the halved limit is taken, and goes when one is released")
    func halvedLimitMakesRequestsWait() async throws {
        let throttle = HostThrottle(ceiling: 2)
        await throttle.acquire("h")
        await throttle.acquire("h")
        // One overloaded answer: 1 in flight, and the limit halves from 2 to 1.
        await throttle.release("h", overloaded: true, retryAfter: .zero)
        let admitted = Flag()
        let third = Task {
            await throttle.acquire("h")
            admitted.set()
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!admitted.isSet, "a request went through although the halved limit (1) was in use")
        await throttle.release("h", overloaded: false, retryAfter: nil)
        await third.value
        #expect(admitted.isSet)
    }

    @Test("a full host makes the next request wait for a release")
    func waitsForRoom() async throws {
        let throttle = HostThrottle(ceiling: 1)
        await throttle.acquire("h")
        let second = Task { await throttle.acquire("h"); return true }
        try await Task.sleep(for: .milliseconds(100))
        #expect(await throttle.limit(of: "h") == 1)
        await throttle.release("h", overloaded: false, retryAfter: nil)
        #expect(await second.value)
    }

    @Test("Retry-After pauses every new request to the host at least that long")
    func pause() async {
        let throttle = HostThrottle(ceiling: 4)
        await throttle.acquire("h")
        await throttle.release("h", overloaded: true, retryAfter: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        await throttle.acquire("h")
        #expect(clock.now - start >= .milliseconds(300))
    }
}

private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
