import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// How many connections are open, shared by every connection's ``ConnectionLimitHandler``.
final class ConnectionCounter: @unchecked Sendable {
    // NSLock guards `open`, the only mutable state.
    private let lock = NSLock()
    private var open = 0
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// Counts a new connection; false when it is one too many (it is still counted until it closes).
    func opened() -> Bool { lock.withLock { open += 1; return open <= limit } }
    func closed() { lock.withLock { open -= 1 } }
    var current: Int { lock.withLock { open } }
}

/// Caps the connections served at once: one past the cap gets a `503` with `Retry-After` to its first
/// request and is closed, so that a flood of idle connections cannot take every file descriptor.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let counter: ConnectionCounter
    private var counted = false
    private var refused = false

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = true
        refused = !counter.opened()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted { counter.closed() }
        counted = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refused else {
            context.fireChannelRead(data)
            return
        }
        guard case .head = unwrapInboundIn(data) else { return }
        let body = ByteBuffer(string: #"{"detail":"Too many connections; try again later."}"#)
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.retryAfter] = "1"
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
