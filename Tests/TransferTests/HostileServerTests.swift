import Foundation
import Testing
@testable import Transfer

/// A server that lies or stalls cannot crash, hang or flood the engine (issue 10).
@Suite("Hostile servers")
struct HostileServerTests {
    /// Retries quickly, so that a test that expects no retry would see one within its run.
    static let quickRetry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50))

    /// What a 429 with `Retry-After: value` led to: the error, the requests the server saw, and the
    /// status of a plain request sent right after.
    struct Refusal {
        var error: TransferError?
        var requests: Int
        var nextStatus: Int
    }

    func retryAfterRefusal(_ value: String) async throws -> Refusal {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let key = UUID().uuidString
                let url = server.url("/retry-after?key=\(key)&status=429&times=5&value=\(value)")
                let error = await transferError { _ = try await engine.perform(HTTPRequest(url: url, retry: Self.quickRetry)) }
                let requests = server.record.hitTimes(key).count
                let next = try await engine.perform(HTTPRequest(url: server.url("/echo")))
                return Refusal(error: error, requests: requests, nextStatus: next.status)
            }
        }
    }

    @Test("Retry-After: 2^63-1 fails that request at once, naming the demand; nothing traps")
    func retryAfterMaxInt64() async throws {
        let refusal = try await retryAfterRefusal("9223372036854775807")
        #expect(refusal.error?.kind == .retryAfterTooLong(seconds: Int64.max))
        #expect(refusal.error?.message.contains("Retry-After: 9223372036854775807") == true)
        #expect(refusal.error?.message.contains("--max-retry-wait") == true)
        #expect(refusal.error?.isTransient == false)
        // Failed at once: one request, no second attempt after a wait.
        #expect(refusal.requests == 1)
        // The host is not paused for the refused wait: the next request goes out and succeeds.
        #expect(refusal.nextStatus == 200)
    }

    @Test("Retry-After: 11 minutes (above the 10-minute cap) fails that request at once")
    func retryAfterElevenMinutes() async throws {
        let refusal = try await retryAfterRefusal("660")
        #expect(refusal.error?.kind == .retryAfterTooLong(seconds: 660))
        #expect(refusal.error?.message.contains("Retry-After: 660") == true)
        #expect(refusal.error?.isTransient == false)
        #expect(refusal.requests == 1)
        #expect(refusal.nextStatus == 200)
    }

    @Test("Retry-After of 30 digits or an HTTP date in year 9999 saturates instead of trapping")
    func retryAfterParsingSaturates() {
        let now = Date(timeIntervalSince1970: 784_111_777)
        #expect(RetryAfter.demand("999999999999999999999999999999", now: now)?.seconds == Int64.max)
        #expect(RetryAfter.demand("Fri, 31 Dec 9999 23:59:59 GMT", now: now)?.seconds ?? 0 > 600)
        #expect(RetryAfter.demand("-5", now: now) == nil)
        #expect(RetryAfter.demand("600", now: now)?.exceeds(.seconds(600)) == false)
        #expect(RetryAfter.demand("601", now: now)?.exceeds(.seconds(600)) == true)
    }

    @Test("a Retry-After within the cap is still honoured and retried")
    func retryAfterWithinCap() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let key = UUID().uuidString
                let url = server.url("/retry-after?key=\(key)&status=429&times=1&value=1")
                let response = try await engine.perform(HTTPRequest(url: url, retry: Self.quickRetry))
                #expect(response.status == 200)
                let hits = server.record.hitTimes(key)
                #expect(hits.count == 2)
                if hits.count == 2 { #expect(hits[1] - hits[0] >= .milliseconds(900)) }
            }
        }
    }

    @Test("a server sending 1 byte a second is a stall: transient, retried, then reported as stalled")
    func oneBytePerSecondStalls() async throws {
        try await withTestServer { server in
            // The engine's rule (1 KiB/s over 60 s) with a 2 s window, as a test can afford.
            let configuration = testConfiguration(lowSpeedLimit: 1024, lowSpeedTime: .seconds(2))
            try await withTransferEngine(configuration: configuration) { engine in
                let key = UUID().uuidString
                let retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(10))
                let error = await transferError {
                    _ = try await engine.perform(HTTPRequest(url: server.url("/trickle?key=\(key)"), retry: retry))
                }
                #expect(error?.kind == .stalled)
                #expect(error?.isTransient == true)
                #expect(server.record.hitTimes(key).count == 2)
            }
        }
    }

    @Test("the default stall rule is 1 KiB/s for 60 s; a bandwidth limit below it is not a stall")
    func stallDefaults() {
        let configuration = TransferEngine.Configuration()
        #expect(configuration.lowSpeedLimit == 1024)
        #expect(configuration.lowSpeedTime == .seconds(60))
        #expect(configuration.maxRetryWait == .seconds(600))
    }

    @Test("a body longer than its Content-Length never lands beyond that length")
    func bodyLongerThanContentLength() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                try await withTransferEngine(configuration: testConfiguration()) { engine in
                    let path = directory.appendingPathComponent("overlong").path
                    let request = HTTPRequest(url: server.url("/overlong?declare=1000&send=50000"),
                                              destination: .file(path: path, resume: false), retry: .none)
                    do {
                        let response = try await engine.perform(request)
                        // libcurl stops reading at Content-Length: the extra bytes are dropped, never written.
                        #expect(response.bytesReceived == 1000)
                    } catch let error as TransferError {
                        #expect(error.kind == .responseTooLarge(limit: 1000))
                    }
                    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
                    #expect(size <= 1000)
                    let inMemory = try? await engine.perform(HTTPRequest(url: server.url("/overlong?declare=10&send=5000"),
                                                                         retry: .none))
                    #expect((inMemory?.body.count ?? 0) <= 10)
                }
            }
        }
    }

    @Test("a download past its listed size is cut off with an error, with or without Content-Length")
    func downloadPastListedSize() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                try await withTransferEngine(configuration: testConfiguration()) { engine in
                    // Announced by Content-Length: refused before the body.
                    let announced = directory.appendingPathComponent("announced").path
                    var request = HTTPRequest(url: server.url("/blob/5000"), destination: .file(path: announced, resume: false),
                                              retry: .none)
                    request.expectedSize = 1000
                    let first = await transferError { _ = try await engine.perform(request) }
                    #expect(first?.kind == .responseTooLarge(limit: 1000))
                    // Without Content-Length (an endless body): cut off once the file passes the listed size.
                    let endless = directory.appendingPathComponent("endless").path
                    request = HTTPRequest(url: server.url("/hostile"), destination: .file(path: endless, resume: false),
                                          retry: .none)
                    request.expectedSize = 100_000
                    let second = await transferError { _ = try await engine.perform(request) }
                    #expect(second?.kind == .responseTooLarge(limit: 100_000))
                    #expect(second?.message.contains("listed size") == true)
                    let size = (try? FileManager.default.attributesOfItem(atPath: endless)[.size] as? Int) ?? 0
                    #expect(size <= 100_000)
                    // Control: the same size listed correctly downloads in full.
                    let exact = directory.appendingPathComponent("exact").path
                    request = HTTPRequest(url: server.url("/blob/5000"), destination: .file(path: exact, resume: false))
                    request.expectedSize = 5000
                    let response = try await engine.perform(request)
                    #expect(response.status == 200)
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: exact))
                    #expect(bytes.count == 5000)
                }
            }
        }
    }

    @Test("an overall timeout ends a request the server never answers")
    func overallTimeout() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let error = await transferError {
                    _ = try await engine.perform(HTTPRequest(url: server.url("/slow?ms=3000"), retry: .none,
                                                             timeout: .milliseconds(300)))
                }
                #expect(error?.kind == .timeout)
            }
        }
    }
}

@Suite("Terminal-safe text")
struct TerminalTextTests {
    @Test("ESC, CSI, BEL, C1 and bidi overrides are escaped; ordinary text is kept", arguments: [
        ("a\u{1B}[2Jb", "a\\u001b[2Jb"),
        ("\u{1B}]0;title\u{07}", "\\u001b]0;title\\u0007"),
        ("x\u{9B}31m", "x\\u009b31m"),
        ("evil\u{202E}txt.exe", "evil\\u202etxt.exe"),
        ("\u{2066}iso\u{2069}", "\\u2066iso\\u2069"),
        ("line\nbreak\r\ttab\u{7F}", "line\\u000abreak\\u000d\\u0009tab\\u007f"),
        ("naïve café 日本語 🙂", "naïve café 日本語 🙂"),
    ])
    func escapes(pair: (input: String, expected: String)) {
        let escaped = TerminalText.escape(pair.input)
        #expect(escaped == pair.expected)
        #expect(!escaped.unicodeScalars.contains(where: TerminalText.isUnsafe))
        #expect(TerminalText.escape(escaped) == escaped)
    }

    @Test("escaped JSON stays valid JSON and decodes to the original text")
    func jsonStaysValid() throws {
        let original = "a\u{9B}b\u{202E}c\u{1B}d"
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ["name": original]), as: UTF8.self)
        let escaped = TerminalText.escape(json)
        #expect(!escaped.unicodeScalars.contains(where: TerminalText.isUnsafe))
        let decoded = try JSONSerialization.jsonObject(with: Data(escaped.utf8)) as? [String: String]
        #expect(decoded?["name"] == original)
    }
}
