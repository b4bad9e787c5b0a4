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

    @Test("requests beyond the connection limits wait in the engine",
          arguments: [(total: 64, perHost: 2, requests: 8), (total: 3, perHost: 16, requests: 9)])
    func connectionLimits(limits: (total: Int, perHost: Int, requests: Int)) async throws {
        try await withTestServer { server in
            let configuration = testConfiguration(maxConnections: limits.total, maxConnectionsPerHost: limits.perHost)
            try await withTransferEngine(configuration: configuration) { engine in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<limits.requests {
                        group.addTask { try await engine.perform(HTTPRequest(url: server.url("/slow?ms=200"))).status }
                    }
                    for try await status in group { #expect(status == 200) }
                }
            }
            let limit = min(limits.total, limits.perHost)
            #expect(server.record.peakInFlight == limit)
            #expect(server.record.connectionCount <= limit)
        }
    }

    @Test("time spent waiting for a connection does not count against the connect timeout")
    func queuedRequestsDoNotTimeOut() async throws {
        try await withTestServer { server in
            var configuration = testConfiguration(maxConnectionsPerHost: 1)
            configuration.connectTimeout = .seconds(1)
            try await withTransferEngine(configuration: configuration) { engine in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            try await engine.perform(HTTPRequest(url: server.url("/slow?ms=700"), retry: .none)).status
                        }
                    }
                    for try await status in group { #expect(status == 200) }
                }
            }
        }
    }
}
