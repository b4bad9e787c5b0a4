import Foundation

/// The HTTP protocol version a response arrived over.
public enum HTTPVersion: Sendable, Equatable {
    case http1_0, http1_1, http2, http3, unknown
}

/// A finished HTTP exchange. Any status is a response; only transport failures throw.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The body when the destination was memory; empty when it went to a file.
    public var body: Data
    /// The URL that answered, after any redirects.
    public var url: URL
    public var httpVersion: HTTPVersion
    /// For file destinations: the offset the transfer resumed from (0 when it started over).
    public var resumedFrom: Int64
    /// Body bytes received over the wire by the final attempt.
    public var bytesReceived: Int64
    /// How many attempts it took (1 when the first succeeded).
    public var attempts: Int

    public init(status: Int, headers: HTTPHeaders, body: Data, url: URL, httpVersion: HTTPVersion,
                resumedFrom: Int64 = 0, bytesReceived: Int64 = 0, attempts: Int = 1) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.httpVersion = httpVersion
        self.resumedFrom = resumedFrom
        self.bytesReceived = bytesReceived
        self.attempts = attempts
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Throws ``TransferError`` with kind `.httpStatus` unless the status is 2xx (or in `accepted`).
    @discardableResult
    public func validate(accepting accepted: Set<Int> = []) throws -> HTTPResponse {
        if isSuccess || accepted.contains(status) { return self }
        throw TransferError.httpStatus(self)
    }
}
