import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A loopback HTTP server that answers every request with one canned response and counts the
/// requests: for the answers the real server never gives (malformed JSON) or to count retries.
public final class FakeServer: Sendable {
    public let url: URL
    private let counter: Counter

    public var requests: Int { counter.value }

    init(url: URL, counter: Counter) {
        self.url = url
        self.counter = counter
    }

    final class Counter: @unchecked Sendable {
        // @unchecked: `count` is only touched under `lock`.
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}

public func withFakeServer<R: Sendable>(status: Int, contentType: String = "application/json", body: String,
                                        _ run: (FakeServer) async throws -> R) async throws -> R {
    let counter = FakeServer.Counter()
    let router = Router()
    let responseStatus = HTTPResponse.Status(code: status)
    router.on("**", method: .get) { _, _ -> Response in
        counter.increment()
        return Response(status: responseStatus, headers: [.contentType: contentType],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }
    let ports = AsyncStream<Int>.makeStream()
    let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                  onServerRunning: { channel in
                                      ports.continuation.yield(channel.localAddress?.port ?? 0)
                                      ports.continuation.finish()
                                  }, logger: Logger(label: "fake", factory: { _ in SwiftLogNoOpLogHandler() }))
    let group = ServiceGroup(services: [application], gracefulShutdownSignals: [],
                             logger: Logger(label: "fake", factory: { _ in SwiftLogNoOpLogHandler() }))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let server = FakeServer(url: URL(string: "http://127.0.0.1:\(port)")!, counter: counter)
        do {
            let result = try await run(server)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
