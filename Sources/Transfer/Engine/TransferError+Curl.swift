import CCurl
import Foundation

extension TransferError {
    /// A failure reported by libcurl, in our terms. `stalled` tells the low-speed abort from a timeout
    /// (both are CURLE_OPERATION_TIMEDOUT).
    init(curlCode code: CURLcode, detail: String, url: URL, stalled: Bool) {
        let kind = Self.kind(for: code, stalled: stalled)
        let summary = switch kind {
        case .dns: "could not resolve the host"
        case .connect: "could not connect"
        case .tls: "TLS failure"
        case .timeout: "timed out"
        case .stalled: "the transfer stalled (below the low-speed limit)"
        case .connectionLost: "the connection was lost"
        case .unsupportedProtocol: "only http and https URLs are allowed"
        case .fileIO: "local file I/O failed"
        case .cancelled: "the transfer was cancelled"
        case .invalidRequest: "invalid request"
        case .httpStatus, .responseTooLarge, .retryAfterTooLong, .other: "the transfer failed"
        }
        let reason = Self.redactingURLs(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        self.init(kind: kind, message: "\(summary): \(reason)", url: url, curlCode: Int(code.rawValue))
    }

    static func kind(for code: CURLcode, stalled: Bool) -> Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .dns
        case CURLE_COULDNT_CONNECT:
            return .connect
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return .tls
        case CURLE_OPERATION_TIMEDOUT:
            return stalled ? .stalled : .timeout
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2,
             CURLE_HTTP2_STREAM, CURLE_HTTP3:
            return .connectionLost
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .unsupportedProtocol
        case CURLE_WRITE_ERROR, CURLE_READ_ERROR:
            return .fileIO
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled
        case CURLE_URL_MALFORMAT, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION, CURLE_NOT_BUILT_IN:
            return .invalidRequest
        default:
            return .other
        }
    }

    /// Drops query strings and credentials from anything that looks like a URL in libcurl's text.
    static func redactingURLs(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
            guard word.contains("://") || word.contains("?") else { return String(word) }
            var redacted = String(word)
            if let query = redacted.firstIndex(of: "?") { redacted = String(redacted[..<query]) }
            if let scheme = redacted.range(of: "://"), let at = redacted[scheme.upperBound...].firstIndex(of: "@") {
                redacted.removeSubrange(scheme.upperBound...at)
            }
            return redacted
        }.joined(separator: " ")
    }
}
