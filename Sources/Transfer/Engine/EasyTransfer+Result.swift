import CCurl
import Foundation

extension EasyTransfer {
    /// Called on the loop thread once libcurl is done with the handle (already removed from the multi).
    func finish(code: CURLcode) {
        let status = responseCode
        let completed = code == CURLE_OK
        let closed = sink.finish(status: status, headers: responseHeaders,
                                 createIfEmpty: completed && request.method != .head)
        let result: Result<HTTPResponse, TransferError>
        if (completed && closed) || (code == CURLE_WRITE_ERROR && sink.errorBodyTruncated && sink.failure == nil) {
            let response = makeResponse(status: status)
            reportProgress(TransferProgress(uploaded: upload?.size ?? 0, uploadTotal: upload?.size,
                                            downloaded: response.bytesReceived, downloadTotal: nil), force: true)
            result = .success(response)
        } else {
            result = .failure(makeError(code: code))
        }
        complete(result)
    }

    private func makeResponse(status: Int) -> HTTPResponse {
        var urlPointer: UnsafeMutablePointer<CChar>?
        CCurl_easy_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &urlPointer)
        // Parsing a URL costs more than the rest of a small response: reuse the request's when unchanged.
        let effective = urlPointer.map { String(cString: $0) }
        let url = effective == nil || effective == request.url.absoluteString
            ? request.url : (effective.flatMap(URL.init(string:)) ?? request.url)
        var version = 0
        CCurl_easy_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        return HTTPResponse(status: status, headers: responseHeaders, body: sink.body, url: url,
                            httpVersion: HTTPVersion(curlValue: version), resumedFrom: sink.resumedFrom,
                            bytesReceived: sink.bytesReceived)
    }

    private func makeError(code: CURLcode) -> TransferError {
        let url = request.url
        switch sink.failure {
        case .tooLarge(let limit):
            return TransferError(kind: .responseTooLarge(limit: limit),
                                 message: "the response body exceeds the limit of \(limit) bytes and was cut off",
                                 url: url, curlCode: Int(code.rawValue))
        case .file(let errno):
            let path = request.destination.fileName ?? "the destination"
            return TransferError(kind: .fileIO, message: "cannot write \(path): \(String(cString: strerror(errno)))",
                                 url: url, curlCode: Int(code.rawValue))
        case .rangeMismatch(let expected, let got):
            return TransferError(kind: .other,
                                 message: "asked to resume at byte \(expected), the server sent Content-Range '\(got)'",
                                 url: url, curlCode: Int(code.rawValue))
        case .tooLong(let limit, let announced):
            return TransferError(kind: .responseTooLarge(limit: Int(limit)),
                                 message: "the server sent more than the \(limit) bytes of \(announced); the download was cut off",
                                 url: url, curlCode: Int(code.rawValue))
        case nil:
            break
        }
        if code == CURLE_FILESIZE_EXCEEDED, let expected = request.expectedSize {
            return TransferError(kind: .responseTooLarge(limit: Int(expected)),
                                 message: "the server announced more than the \(expected) bytes listed; the download was refused",
                                 url: url, curlCode: Int(code.rawValue))
        }
        if let readError = upload?.readError {
            var error = UploadFile.error(readError, name: upload?.name ?? "the upload")
            error.url = TransferError.redacted(url)
            error.curlCode = Int(code.rawValue)
            return error
        }
        let detail = String(cString: errorBuffer)
        return TransferError(curlCode: code, detail: detail, url: url, stalled: isLowSpeedAbort(detail: detail))
    }

    /// libcurl reports the low-speed abort and the timeouts with the same code (28).
    private func isLowSpeedAbort(detail: String) -> Bool {
        if detail.hasPrefix("Operation too slow") { return true }
        if detail.contains("timed out") || detail.contains("Timeout was reached") { return false }
        let elapsed = ContinuousClock.now - startedAt
        if let timeout = request.timeout, elapsed >= timeout { return false }
        return elapsed >= configuration.lowSpeedTime
    }
}

extension HTTPVersion {
    init(curlValue: Int) {
        switch curlValue {
        case 1: self = .http1_0
        case 2: self = .http1_1
        case 3: self = .http2
        case 30: self = .http3
        default: self = .unknown
        }
    }
}
