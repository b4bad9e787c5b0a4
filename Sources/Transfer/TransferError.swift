import Foundation

/// Why a transfer failed, and whether trying again may help.
public struct TransferError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The host name did not resolve.
        case dns
        /// The TCP connection was refused or could not be made.
        case connect
        case tls
        /// The connect timeout or the request's overall timeout ran out.
        case timeout
        /// The peer sent or took less than the low-speed limit for too long.
        case stalled
        /// The connection broke mid-exchange (reset, empty reply, truncated body).
        case connectionLost
        /// The server answered with a non-success status (see ``TransferError/response``).
        case httpStatus(Int)
        /// A body held in memory exceeded its cap, or a download went past its announced or expected size.
        case responseTooLarge(limit: Int)
        /// The server asked (with `Retry-After`) for a longer wait than the engine's `maxRetryWait`.
        case retryAfterTooLong(seconds: Int64)
        /// A URL (or a redirect) used a scheme other than http or https.
        case unsupportedProtocol
        /// Reading the upload or writing the download failed on the local disk.
        case fileIO
        case cancelled
        /// The request was malformed before it went out (bad URL, bad option).
        case invalidRequest
        case other
    }

    public var kind: Kind
    /// A human-readable account, safe to print: it never holds credentials or query strings.
    public var message: String
    /// The URL without its query (presigned URLs carry signatures there).
    public var url: String?
    /// libcurl's result code when the failure came from libcurl.
    public var curlCode: Int?
    /// The response, for ``Kind/httpStatus(_:)``.
    public var response: HTTPResponse?

    public init(kind: Kind, message: String, url: URL? = nil, curlCode: Int? = nil, response: HTTPResponse? = nil) {
        self.kind = kind
        self.message = message
        self.url = url.map(TransferError.redacted)
        self.curlCode = curlCode
        self.response = response
    }

    /// A failure for a response whose status was not accepted.
    public static func httpStatus(_ response: HTTPResponse) -> TransferError {
        let excerpt = String(decoding: response.body.prefix(512), as: UTF8.self)
        return TransferError(kind: .httpStatus(response.status),
                             message: "HTTP \(response.status)" + (excerpt.isEmpty ? "" : ": \(excerpt)"),
                             url: response.url, response: response)
    }

    /// A retryable answer whose `Retry-After` asks for more than `cap`: the request fails now, naming the demand.
    static func retryAfterTooLong(_ demand: RetryAfter.Demand, cap: Duration, response: HTTPResponse) -> TransferError {
        TransferError(kind: .retryAfterTooLong(seconds: demand.seconds),
                      message: "HTTP \(response.status): the server asks to wait \(demand.seconds) s before trying again "
                          + "(Retry-After: \(demand.text)), more than the \(cap.components.seconds) s this client waits at most "
                          + "(--max-retry-wait)",
                      url: response.url, response: response)
    }

    /// Whether the same request may succeed later: connection trouble, stalls, `429`, `502`-`504`.
    public var isTransient: Bool {
        switch kind {
        case .dns, .connect, .timeout, .stalled, .connectionLost: return true
        case .httpStatus(let status): return RetryPolicy.transientStatuses.contains(status)
        case .tls, .retryAfterTooLong, .responseTooLarge, .unsupportedProtocol, .fileIO, .cancelled, .invalidRequest, .other: return false
        }
    }

    public var description: String {
        if let url { return "\(message) (\(url))" }
        return message
    }

    static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "<url>" }
        components.query = nil
        components.user = nil
        components.password = nil
        return components.string ?? "<url>"
    }
}
