import Foundation
import Testing
@testable import Transfer

@Suite("Connections")
struct ConnectionTests {
    @Test("sequential requests reuse one connection")
    func reuse() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                for index in 0..<10 {
                    let method: HTTPMethod = index.isMultiple(of: 2) ? .get : .post
                    let response = try await engine.perform(HTTPRequest(method: method, url: server.url("/echo"),
                                                                        body: method == .get ? .empty : .data(Data("x".utf8))))
                    #expect(response.status == 200)
                }
            }
            #expect(server.record.connectionCount == 1)
        }
    }

    @Test("requests beyond the per-host limit wait in the engine")
    func perHostLimit() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration(maxConnectionsPerHost: 2)) { engine in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await engine.perform(HTTPRequest(url: server.url("/slow?ms=200"))).status }
                    }
                    for try await status in group { #expect(status == 200) }
                }
            }
            #expect(server.record.peakInFlight == 2)
            #expect(server.record.connectionCount <= 2)
        }
    }

    @Test("requests beyond the total limit wait in the engine")
    func totalLimit() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration(maxConnections: 3)) { engine in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<9 {
                        group.addTask { try await engine.perform(HTTPRequest(url: server.url("/slow?ms=200"))).status }
                    }
                    for try await status in group { #expect(status == 200) }
                }
            }
            #expect(server.record.peakInFlight == 3)
            #expect(server.record.connectionCount <= 3)
        }
    }
}
