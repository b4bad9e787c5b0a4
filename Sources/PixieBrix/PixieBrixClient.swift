import Foundation
import Logging
import Transfer

/// A typed client of the PixieBrix Database API (docs/api-contract.md), over a ``TransferEngine``.
///
/// The token goes only to the API's own scheme, host and port; storage URLs (presigned uploads,
/// download redirects) never see it.
public final class PixieBrixClient: Sendable {
    public let baseURL: URL
    let token: APIToken?
    let engine: TransferEngine
    let logger: Logger
    /// How long one API call (not a file transfer) may take in all, retries excluded.
    public let requestTimeout: Duration

    /// The default ``requestTimeout``: long enough for a 16 MiB page on a slow link, short enough that
    /// a server that answers nothing cannot hold a command forever.
    public static let defaultRequestTimeout: Duration = .seconds(300)

    /// - Throws: ``PixieBrixError`` `.insecureURL` for plain http to a host that is not loopback
    ///   unless `allowInsecure`, `.invalidRequest` for a URL that is not http(s).
    public init(baseURL: URL, token: APIToken?, engine: TransferEngine, allowInsecure: Bool = false,
                requestTimeout: Duration = PixieBrixClient.defaultRequestTimeout,
                logger: Logger = .silent("assets.api")) throws {
        guard let scheme = baseURL.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = baseURL.host,
              !host.isEmpty
        else {
            throw PixieBrixError(kind: .invalidRequest, message: "the API URL must be http(s)://host[:port], not \(baseURL)")
        }
        if scheme == "http", !allowInsecure, !PixieBrixClient.isLoopback(host) {
            throw PixieBrixError(kind: .insecureURL,
                                 message: "refusing to send the token over plain http to \(host); use https or --allow-insecure")
        }
        var trimmed = baseURL.absoluteString
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.baseURL = URL(string: trimmed)!
        self.token = token
        self.engine = engine
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// Whether `host` is this machine: an IPv4 address in 127.0.0.0/8, the IPv6 address ::1, or the
    /// name `localhost`. An address, not a prefix: `127.0.0.1.example.com` is a name on the internet.
    static func isLoopback(_ host: String) -> Bool {
        LoopbackHost.isLoopback(host)
    }

    // MARK: Requests to the API host

    /// The API version asked for in `Accept`.
    public enum Version: String, Sendable {
        case v1 = "1.0"
        case v2 = "2.0"
    }

    /// Builds `baseURL + path` with a query, percent-encoding values strictly (RFC 3986 unreserved only).
    func url(_ path: String, query: [(String, String)] = []) -> URL {
        var text = baseURL.absoluteString + path
        if !query.isEmpty {
            text += "?" + query.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        }
        return URL(string: text)!
    }

    static func percentEncode(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// Whether `url` is on the API's own origin (where the token may go).
    func isAPIOrigin(_ url: URL) -> Bool {
        url.scheme?.lowercased() == baseURL.scheme?.lowercased()
            && url.host?.lowercased() == baseURL.host?.lowercased()
            && (url.port ?? Self.defaultPort(url)) == (baseURL.port ?? Self.defaultPort(baseURL))
    }

    private static func defaultPort(_ url: URL) -> Int { url.scheme?.lowercased() == "https" ? 443 : 80 }

    /// Sends one request to the API host and returns the response if its status is accepted.
    func send(_ method: HTTPMethod, _ url: URL, json body: Data? = nil, version: Version = .v2,
              accept mediaType: String = "application/json", retry: RetryPolicy? = nil,
              acceptedStatuses: Set<Int> = [], destination: ResponseDestination? = nil, freshConnection: Bool = false,
              doing what: @autoclosure () -> String) async throws -> HTTPResponse {
        guard isAPIOrigin(url) else {
            throw PixieBrixError(kind: .foreignHost, message: "\(what()): the server pointed to \(url.host ?? "?"), not the API host")
        }
        var headers: HTTPHeaders = ["Accept": "\(mediaType); version=\(version.rawValue)"]
        if let token { headers.add(name: "Authorization", value: token.authorizationValue) }
        var requestBody = RequestBody.empty
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            requestBody = .data(body)
        }
        var request = HTTPRequest(method: method, url: url, headers: headers, body: requestBody, retry: retry,
                                  timeout: requestTimeout)
        if let destination { request.destination = destination }
        request.freshConnection = freshConnection
        let response: HTTPResponse
        do {
            response = try await engine.perform(request)
        } catch let error as TransferError {
            throw PixieBrixError.from(error, doing: what())
        }
        guard response.isSuccess || acceptedStatuses.contains(response.status) else {
            throw PixieBrixError.from(response, doing: what())
        }
        return response
    }

    func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse, doing what: String) throws -> T {
        do {
            return try JSONDecoder.api.decode(T.self, from: response.body)
        } catch {
            throw PixieBrixError(kind: .malformedResponse, message: "\(what): the server's answer is not the expected JSON",
                                 status: response.status, detail: "\(error)")
        }
    }

    static func jsonBody<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try! encoder.encode(value)
    }

    /// Fetches every page of a version 2.0 list endpoint by following `Link: rel="next"`.
    func fetchAllPages<T: Decodable & Sendable>(_ type: T.Type, path: String, query: [(String, String)] = [],
                                                pageSize: Int = 1000, doing what: String,
                                                onPage: ([T]) async throws -> Void) async throws {
        try await fetchPages(from: url(path, query: query + [("page_size", String(pageSize))]), doing: what) { response in
            try await onPage(try decode([T].self, from: response, doing: what))
        }
    }

    /// Fetches the raw pages of a version 2.0 list endpoint from `first` on, following `Link: rel="next"`.
    ///
    /// The next page is requested while `onPage` handles the current one, so at most two pages are
    /// held at a time.
    func fetchPages(from first: URL, accept mediaType: String = "application/json",
                    memoryLimit: Int = ResponseDestination.defaultMemoryLimit, doing what: String,
                    onPage: (HTTPResponse) async throws -> Void) async throws {
        @Sendable func start(_ url: URL) -> Task<HTTPResponse, any Error> {
            Task {
                try await self.send(.get, url, accept: mediaType, destination: .memory(limit: memoryLimit), doing: what)
            }
        }
        var seen: Set<String> = [first.absoluteString]
        var pending = start(first)
        while true {
            let current = pending
            let response = try await withTaskCancellationHandler { try await current.value } onCancel: { current.cancel() }
            var prefetch: Task<HTTPResponse, any Error>?
            if let next = LinkHeader(response.headers.values(for: "Link"))["next"] {
                guard seen.insert(next.absoluteString).inserted else {
                    throw PixieBrixError(kind: .malformedResponse, message: "\(what): the server's pages link in a loop")
                }
                prefetch = start(next)
            }
            do {
                try await onPage(response)
            } catch {
                prefetch?.cancel()
                throw error
            }
            guard let prefetch else { return }
            pending = prefetch
        }
    }

    /// Every item of a version 2.0 list endpoint.
    func listAll<T: Decodable & Sendable>(_ type: T.Type, path: String, query: [(String, String)] = [],
                                          doing what: String) async throws -> [T] {
        var items: [T] = []
        try await fetchAllPages(T.self, path: path, query: query, doing: what) { items += $0 }
        return items
    }
}
