import HTTPTypes
import Hummingbird
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The request context: Hummingbird's core storage plus the connection, which the `reset` fault closes.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Aborts the connection with a TCP reset, as a dropped link would.
    func resetConnection() async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close().get()
    }
}

extension HTTPField.Name {
    static let pbLink = Self("Link")!
    static let pbTotalCount = Self("X-Total-Count")!
    static let pbRetryAfter = Self("Retry-After")!
    static let pbWWWAuthenticate = Self("WWW-Authenticate")!
    static let pbAllow = Self("Allow")!
}

/// Closes the connection without an answer after a `reset` fault.
struct ConnectionReset: Error {}
