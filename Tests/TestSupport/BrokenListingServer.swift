import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A loopback server that knows one database and whose asset listing answers a first, empty page with a `next`
/// link, then `404` for that next page.
public func withBrokenListingServer(database: String, _ body: (URL) async throws -> Void) async throws {
    let router = Router()
    let json = "application/json; version=2.0"
    let respond: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
        let path = request.uri.path
        if path == "/api/databases/\(database)/" {
            let body = #"{"id":"\#(database)","name":"broken","organization_id":null,"type":"Asset","#
                + #""created_at":"2024-01-01T00:00:00Z","last_write_at":null,"num_records":0}"#
            return Response(status: .ok, headers: [.contentType: json], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        if path == "/api/databases/\(database)/assets/" {
            if request.uri.queryParameters.get("page") == "2" {
                return Response(status: .notFound, headers: [.contentType: json],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"detail":"Invalid page."}"#)))
            }
            let host = request.head.authority ?? "127.0.0.1"
            var headers: HTTPFields = [.contentType: json]
            headers[.init("Link")!] = "<http://\(host)/api/databases/\(database)/assets/?page=2&page_size=1000>; rel=\"next\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "[]")))
        }
        return Response(status: .notFound, headers: [.contentType: json],
                        body: .init(byteBuffer: ByteBuffer(string: #"{"detail":"Not found."}"#)))
    }
    router.on("**", method: .get, use: respond)
    let ports = AsyncStream<Int>.makeStream()
    let quiet = Logger(label: "broken", factory: { _ in SwiftLogNoOpLogHandler() })
    let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                  onServerRunning: { channel in
                                      ports.continuation.yield(channel.localAddress?.port ?? 0)
                                      ports.continuation.finish()
                                  }, logger: quiet)
    let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: quiet)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            try await body(URL(string: "http://127.0.0.1:\(port)")!)
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
