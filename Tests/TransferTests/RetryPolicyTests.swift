import Foundation
import Testing
import CCurl
@testable import Transfer

@Suite("Retry policy, Retry-After and the completion race (no I/O)")
struct RetryPolicyTests {
    @Test("backoff grows exponentially under the cap, with full jitter")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        #expect(policy.delay(after: 1, retryAfter: nil, unitRandom: 1) == .milliseconds(100))
        #expect(policy.delay(after: 3, retryAfter: nil, unitRandom: 1) == .milliseconds(400))
        #expect(policy.delay(after: 10, retryAfter: nil, unitRandom: 1) == .seconds(1))
        #expect(policy.delay(after: 3, retryAfter: nil, unitRandom: 0) == .zero)
        #expect(policy.delay(after: 3, retryAfter: nil, unitRandom: 0.5) == .milliseconds(200))
        #expect(policy.delay(after: 1, retryAfter: .seconds(5), unitRandom: 1) == .seconds(5))
    }

    @Test("transport errors are retried only when the policy says so")
    func transportRetries() {
        let connect = TransferError(kind: .connect, message: "x")
        #expect(RetryPolicy(maxAttempts: 3).retries(connect))
        #expect(!RetryPolicy(maxAttempts: 3, retryTransportErrors: false).retries(connect))
        #expect(!RetryPolicy(maxAttempts: 3).retries(TransferError(kind: .fileIO, message: "x")))
        #expect(!RetryPolicy(maxAttempts: 3).retries(TransferError(kind: .cancelled, message: "x")))
    }

    @Test("Retry-After parses seconds and HTTP dates")
    func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 784_111_777) // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:47 GMT", now: now) == .seconds(10))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:47 GMT", now: now) == .seconds(10))
        #expect(RetryAfter.parse("Sun Nov  6 08:49:47 1994", now: now) == .seconds(10))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == .zero)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse(nil, now: now) == nil)
    }

    @Test("a cancellation before the start resumes at once; after the start it goes to the engine")
    func completionRace() {
        var early = CompletionStateMachine<Int>()
        #expect(early.cancel() == .none)
        guard case .resumeCancelled(7) = early.start(7) else { Issue.record("expected resumeCancelled"); return }
        #expect(early.finish() == nil)

        var running = CompletionStateMachine<Int>()
        guard case .submit = running.start(8) else { Issue.record("expected submit"); return }
        #expect(running.cancel() == .abortInEngine)
        #expect(running.finish() == 8)
        #expect(running.cancel() == .none)
        #expect(running.finish() == nil)
    }

    @Test("Content-Range start parsing")
    func contentRange() {
        #expect(ResponseSink.rangeStart("bytes 100-199/200") == 100)
        #expect(ResponseSink.rangeStart("bytes */200") == nil)
        #expect(ResponseSink.rangeStart("") == nil)
    }
}

@Suite("Request defaults")
struct RequestDefaultsTests {
    @Test("the retry policy defaults by method, and retry: .none means no retry")
    func retryDefaults() {
        let url = URL(string: "http://127.0.0.1/")!
        #expect(HTTPRequest(url: url).retry == .default)
        #expect(HTTPRequest(method: .put, url: url).retry == .default)
        #expect(HTTPRequest(method: .post, url: url).retry == .none)
        #expect(HTTPRequest(url: url, retry: .none).retry == .none)
        #expect(HTTPRequest(method: .post, url: url, retry: .default).retry == .default)
        let absent: RetryPolicy? = nil
        #expect(HTTPRequest(url: url, retry: absent).retry == .default)
        let given: RetryPolicy? = RetryPolicy(maxAttempts: 2)
        #expect(HTTPRequest(method: .post, url: url, retry: given).retry.maxAttempts == 2)
        #expect(HTTPRequest(url: url, retry: .automatic).retry == .default)
    }
}

@Suite("libcurl result codes")
struct CurlCodeMappingTests {
    @Test("result codes map to kinds that say what happened")
    func mapping() {
        let cases: [(CURLcode, Bool, TransferError.Kind)] = [
            (CURLE_COULDNT_RESOLVE_HOST, false, .dns), (CURLE_COULDNT_CONNECT, false, .connect),
            (CURLE_PEER_FAILED_VERIFICATION, false, .tls), (CURLE_SSL_CONNECT_ERROR, false, .tls),
            (CURLE_OPERATION_TIMEDOUT, false, .timeout), (CURLE_OPERATION_TIMEDOUT, true, .stalled),
            (CURLE_RECV_ERROR, false, .connectionLost), (CURLE_GOT_NOTHING, false, .connectionLost),
            (CURLE_PARTIAL_FILE, false, .connectionLost), (CURLE_UNSUPPORTED_PROTOCOL, false, .unsupportedProtocol),
            (CURLE_READ_ERROR, false, .fileIO), (CURLE_ABORTED_BY_CALLBACK, false, .cancelled),
            (CURLE_URL_MALFORMAT, false, .invalidRequest), (CURLE_TOO_MANY_REDIRECTS, false, .other),
        ]
        for (code, stalled, kind) in cases {
            #expect(TransferError.kind(for: code, stalled: stalled) == kind, "code \(code.rawValue)")
        }
        let error = TransferError(curlCode: CURLE_COULDNT_RESOLVE_HOST, detail: "Could not resolve host: example.invalid",
                                  url: URL(string: "https://example.invalid/x?token=abc")!, stalled: false)
        #expect(error.isTransient)
        #expect(error.curlCode == 6)
        #expect(!error.description.contains("token=abc"))
    }
}
