import Foundation
import Testing
@testable import Transfer

@Suite("Redirects and protocols")
struct SafetyTests {
    @Test("a redirect to another host arrives without Authorization")
    func authorizationStaysHome() async throws {
        try await withTestServer { home in
            try await withTestServer { other in
                try await withTransferEngine(configuration: testConfiguration()) { engine in
                    let headers: HTTPHeaders = ["Authorization": "Token secret-token", "X-Trace": "t1"]
                    func echoAfterRedirect(to target: URL) async throws -> EchoReply {
                        let to = target.absoluteString.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                        let response = try await engine.perform(HTTPRequest(url: home.url("/redirect?to=\(to)"),
                                                                            headers: headers, followRedirects: true))
                        #expect(response.status == 200)
                        #expect(response.url.port == target.port)
                        return try decode(EchoReply.self, response)
                    }
                    // Control: the same host keeps the header, so its absence below means something.
                    let sameHost = try await echoAfterRedirect(to: home.url("/echo"))
                    #expect(sameHost.header("Authorization") == "Token secret-token")

                    let otherPort = try await echoAfterRedirect(to: other.url("/echo"))
                    #expect(otherPort.header("Authorization") == nil)
                    #expect(otherPort.header("X-Trace") == "t1")

                    let otherName = try await echoAfterRedirect(to: home.url("/echo", host: "localhost"))
                    #expect(otherName.header("Authorization") == nil)
                }
            }
        }
    }

    @Test("redirects are not followed unless asked for")
    func redirectNotFollowed() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let response = try await engine.perform(HTTPRequest(url: server.url("/redirect?to=/echo")))
                #expect(response.status == 302)
                #expect(response.headers["Location"] == "/echo")
            }
        }
    }

    @Test("file:// and ftp:// URLs are refused", arguments: ["file:///etc/passwd", "ftp://127.0.0.1:1/file"])
    func schemesRefused(url: String) async throws {
        try await withTransferEngine(configuration: testConfiguration()) { engine in
            let error = await transferError { _ = try await engine.perform(HTTPRequest(url: URL(string: url)!)) }
            #expect(error?.kind == .unsupportedProtocol)
        }
    }

    @Test("redirects to file:// and ftp:// are refused", arguments: ["file:///etc/passwd", "ftp://127.0.0.1:1/file"])
    func redirectSchemesRefused(target: String) async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let to = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let error = await transferError {
                    _ = try await engine.perform(HTTPRequest(url: server.url("/redirect?to=\(to)"), followRedirects: true))
                }
                #expect(error?.kind == .unsupportedProtocol)
            }
        }
    }

    @Test("a header field with a line break is refused before anything is sent",
          arguments: [("X-Evil", "a\r\nInjected: 1"), ("X-Evil\r\nInjected", "1"), ("Bad:Name", "1"), ("", "1")])
    func headerInjection(field: (name: String, value: String)) async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let error = await transferError {
                    _ = try await engine.perform(HTTPRequest(url: server.url("/echo"),
                                                             headers: HTTPHeaders([(field.name, field.value)])))
                }
                #expect(error?.kind == .invalidRequest)
            }
            #expect(server.record.connectionCount == 0)
        }
    }

    @Test("a method that is not a token is refused", arguments: ["GET /x HTTP/1.1\r\nX:", "BAD METHOD", ""])
    func methodInjection(method: String) async throws {
        try await withTransferEngine(configuration: testConfiguration()) { engine in
            let error = await transferError {
                _ = try await engine.perform(HTTPRequest(method: HTTPMethod(rawValue: method),
                                                         url: URL(string: "http://127.0.0.1:1/")!))
            }
            #expect(error?.kind == .invalidRequest)
        }
    }

    @Test("error messages carry no query string or credentials")
    func redaction() async throws {
        try await withTransferEngine(configuration: testConfiguration()) { engine in
            let url = URL(string: "http://user:pw@127.0.0.1:1/upload?X-Amz-Signature=secret123")!
            let error = await transferError { _ = try await engine.perform(HTTPRequest(url: url, retry: .none)) }
            #expect(error?.kind == .connect)
            let text = error.map { "\($0)" } ?? ""
            #expect(!text.contains("secret123"))
            #expect(!text.contains("pw@"))
            #expect(error?.url == "http://127.0.0.1:1/upload")
        }
        #expect(TransferError.redactingURLs("Failed for https://h/p?sig=abc now") == "Failed for https://h/p now")
    }
}
