import Foundation
import Testing
@testable import Transfer

@Suite("Requests and responses")
struct RequestResponseTests {
    @Test("any method carries its headers and in-memory body", arguments: [HTTPMethod.post, .put, .patch, .delete])
    func methodsHeadersAndBody(method: HTTPMethod) async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let body = Data(#"{"hello": "world"}"#.utf8)
                let response = try await engine.perform(HTTPRequest(
                    method: method, url: server.url("/echo"),
                    headers: ["Content-Type": "application/json", "X-Trace": "abc", "Accept": "application/json; version=2.0"],
                    body: .data(body)))
                #expect(response.status == 200)
                #expect(response.headers["content-type"] == "application/json")
                let echo = try decode(EchoReply.self, response)
                #expect(echo.method == method.rawValue)
                #expect(echo.body == #"{"hello": "world"}"#)
                #expect(echo.header("Content-Length") == String(body.count))
                #expect(echo.header("Content-Type") == "application/json")
                #expect(echo.header("X-Trace") == "abc")
                #expect(echo.header("Accept") == "application/json; version=2.0")
                #expect(echo.header("Expect") == nil)
            }
        }
    }

    @Test("a GET sends no body and no invented Content-Type")
    func plainGet() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let response = try await engine.perform(HTTPRequest(url: server.url("/echo")))
                let echo = try decode(EchoReply.self, response)
                #expect(echo.method == "GET")
                #expect(echo.length == 0)
                #expect(echo.header("Content-Type") == nil)
                #expect(echo.header("User-Agent") == TransferEngine.Configuration().userAgent)
                #expect(response.attempts == 1)
                #expect(response.httpVersion == .http1_1)
            }
        }
    }

    @Test("an error status is a response, and validate() turns it into a typed error")
    func statusIsAResponse() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let response = try await engine.perform(HTTPRequest(url: server.url("/status/404")))
                #expect(response.status == 404)
                #expect(String(decoding: response.body, as: UTF8.self) == "status 404")
                let error = await transferError { try response.validate() }
                #expect(error?.kind == .httpStatus(404))
                #expect(error?.isTransient == false)
                #expect(error?.message.contains("status 404") == true)
            }
        }
    }

    @Test("a hostile endless body is cut off at the memory cap", arguments: [false, true])
    func hostileBodyIsCapped(declaresLength: Bool) async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let limit = 1 << 20
                let error = await transferError {
                    _ = try await engine.perform(HTTPRequest(
                        url: server.url(declaresLength ? "/hostile?declare=1" : "/hostile"),
                        destination: .memory(limit: limit), retry: .none))
                }
                #expect(error?.kind == .responseTooLarge(limit: limit))
                #expect(error?.message.contains("\(limit) bytes") == true)
                #expect(engine.loop.activeCount == 0)
            }
        }
    }

    @Test("a body exactly at the cap is accepted")
    func bodyAtCap() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let size = 256 << 10
                let response = try await engine.perform(HTTPRequest(url: server.url("/blob/\(size)"),
                                                                    destination: .memory(limit: size)))
                #expect(response.body == TestData.bytes(count: size))
                #expect(response.bytesReceived == Int64(size))
            }
        }
    }

    @Test("progress reports reach the final byte count")
    func progress() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let size = 4 << 20
                let reports = Collector<TransferProgress>()
                _ = try await engine.perform(HTTPRequest(url: server.url("/blob/\(size)"),
                                                         progress: { reports.append($0) }))
                #expect(reports.values.last?.downloaded == Int64(size))
                #expect(reports.values.count < 200)
            }
        }
    }
}
