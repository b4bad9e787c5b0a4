import Foundation
import Transfer
import WireFormat

/// A failed API call, with what the user needs to act on it.
public struct PixieBrixError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `401`: the token is missing or wrong.
        case unauthorized
        /// `403`: the token may not touch this database or organization.
        case forbidden
        /// `404`: no such database, asset or job (or a wrong base URL).
        case notFound
        /// `400`: the server refused the request's content.
        case invalidRequest
        /// `406`: the server does not speak the API version asked for.
        case unsupportedVersion
        /// `429` after retries ran out.
        case throttled
        /// `5xx` after retries ran out.
        case server
        /// Another status the API does not document.
        case unexpectedStatus
        /// The server could not be reached (DNS, connect, TLS, timeouts, resets).
        case unreachable
        /// The server answered with a body that is not what docs/api-contract.md describes.
        case malformedResponse
        /// A plain-http URL to a host that is not loopback, without `allowInsecure`.
        case insecureURL
        /// The server pointed at a host other than the API's where the token would go.
        case foreignHost
        /// A local file could not be read or written.
        case localFile
        case cancelled
    }

    public var kind: Kind
    /// What happened, in words safe to print (never a token, never a signed query).
    public var message: String
    public var status: Int?
    /// The `detail` or field messages the server sent, if any.
    public var detail: String?
    /// How the connection failed, for ``Kind/unreachable``: whether the request can have reached the server.
    public var connectionFailure: ConnectionFailure?
    /// The server's `Retry-After` on a `429` or `5xx`, if it sent one.
    public var retryAfter: Duration?

    public init(kind: Kind, message: String, status: Int? = nil, detail: String? = nil,
                connectionFailure: ConnectionFailure? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
        self.detail = detail
        self.connectionFailure = connectionFailure
    }

    /// Whether the same call may succeed later.
    public var isTransient: Bool {
        switch kind {
        case .throttled, .server, .unreachable: return true
        default: return false
        }
    }

    public var description: String {
        var text = message
        if let detail, !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    static func from(_ error: TransferError, doing what: String) -> PixieBrixError {
        switch error.kind {
        case .cancelled:
            return PixieBrixError(kind: .cancelled, message: "\(what) was cancelled")
        case .fileIO:
            return PixieBrixError(kind: .localFile, message: "\(what) failed: \(error)")
        case .retryAfterTooLong:
            return PixieBrixError(kind: .throttled, message: "\(what) failed: \(error)", status: error.response?.status)
        case .httpStatus where error.response != nil:
            return from(error.response!, doing: what)
        case .responseTooLarge, .invalidRequest, .other, .unsupportedProtocol, .httpStatus:
            return PixieBrixError(kind: .malformedResponse, message: "\(what) failed: \(error)")
        case .dns, .connect, .tls, .timeout, .stalled, .connectionLost:
            return PixieBrixError(kind: .unreachable, message: "\(what) failed: \(error)",
                                  connectionFailure: ConnectionFailure(error.kind))
        }
    }

    /// Maps an error response of the API host.
    static func from(_ response: HTTPResponse, doing what: String) -> PixieBrixError {
        let kind: Kind
        switch response.status {
        case 400, 413, 415: kind = .invalidRequest
        case 401: kind = .unauthorized
        case 403: kind = .forbidden
        case 404: kind = .notFound
        case 406: kind = .unsupportedVersion
        case 429: kind = .throttled
        case 500...599: kind = .server
        default: kind = .unexpectedStatus
        }
        var error = PixieBrixError(kind: kind, message: "\(what): HTTP \(response.status)", status: response.status,
                                   detail: errorDetail(response.body))
        error.retryAfter = RetryAfter.parse(response.headers["Retry-After"])
        return error
    }

    /// The `detail` of `{"detail": ...}`, or the field messages of a DRF validation body, or a storage XML `Message`.
    static func errorDetail(_ body: Data) -> String? {
        guard !body.isEmpty else { return nil }
        if let json = try? JSONValue(parsing: body) {
            if let detail = json["detail"]?.stringValue { return detail }
            if case .object(let members) = json {
                return members.map { member in
                    let messages: String
                    if case .array(let items) = member.value {
                        messages = items.map(\.cellText).joined(separator: " ")
                    } else {
                        messages = member.value.cellText
                    }
                    return "\(member.key): \(messages)"
                }.joined(separator: "; ")
            }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        if let code = xmlElement("Code", in: text) {
            return [code, xmlElement("Message", in: text)].compactMap { $0 }.joined(separator: ": ")
        }
        return nil
    }

    private static func xmlElement(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
