import CCurl
import Foundation

extension EasyTransfer {
    /// Sets every libcurl option for this attempt.
    func configure() throws(TransferError) {
        var failed: [CURLoption] = []
        func check(_ code: CURLcode, _ option: CURLoption) {
            if code != CURLE_OK { failed.append(option) }
        }
        func set(_ option: CURLoption, _ value: Int) { check(CCurl_easy_setopt_long(handle, option, value), option) }
        func set(_ option: CURLoption, _ value: String) {
            check(value.withCString { CCurl_easy_setopt_string(handle, option, $0) }, option)
        }
        func set(_ option: CURLoption, offset value: Int64) {
            check(CCurl_easy_setopt_off_t(handle, option, curl_off_t(value)), option)
        }
        func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) {
            check(CCurl_easy_setopt_pointer(handle, option, value), option)
        }

        set(CURLOPT_URL, request.url.absoluteString)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        set(CURLOPT_MAXREDIRS, 10)
        set(CURLOPT_NOSIGNAL, 1)
        if request.freshConnection { set(CURLOPT_FRESH_CONNECT, 1) }
        set(CURLOPT_USERAGENT, configuration.userAgent)
        set(CURLOPT_HTTP_VERSION, Int(configuration.http2 ? CCurl_http_version_2tls() : CCurl_http_version_1_1()))
        // Wait for a connection that can multiplex rather than open another one next to it.
        if configuration.http2 { set(CURLOPT_PIPEWAIT, 1) }

        if let caBundlePath = configuration.caBundlePath { set(CURLOPT_CAINFO, caBundlePath) }
        set(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.milliseconds)
        let rate = (request.bandwidthLimit ?? configuration.bandwidthLimit).flatMap { $0 > 0 ? $0 : nil }
        // A transfer held below the floor by our own bandwidth limit is not a stall.
        let lowSpeedLimit = rate.map { min(configuration.lowSpeedLimit, max(1, $0 / 2)) } ?? configuration.lowSpeedLimit
        set(CURLOPT_LOW_SPEED_LIMIT, max(1, lowSpeedLimit))
        set(CURLOPT_LOW_SPEED_TIME, max(1, configuration.lowSpeedTime.wholeSecondsRoundedUp))
        if let timeout = request.timeout { set(CURLOPT_TIMEOUT_MS, max(1, timeout.milliseconds)) }
        if let expectedSize = request.expectedSize, expectedSize >= 0, case .file = request.destination {
            // libcurl refuses at once a response whose Content-Length is larger; the sink checks the bytes.
            set(CURLOPT_MAXFILESIZE_LARGE, offset: expectedSize)
        }
        if let rate {
            set(CURLOPT_MAX_SEND_SPEED_LARGE, offset: Int64(rate))
            set(CURLOPT_MAX_RECV_SPEED_LARGE, offset: Int64(rate))
        }

        set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        set(CURLOPT_PRIVATE, pointer: opaqueSelf)
        check(CCurl_easy_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback), CURLOPT_HEADERFUNCTION)
        set(CURLOPT_HEADERDATA, pointer: opaqueSelf)
        check(CCurl_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback), CURLOPT_WRITEFUNCTION)
        set(CURLOPT_WRITEDATA, pointer: opaqueSelf)
        if request.progress != nil {
            check(CCurl_easy_setopt_xferinfo_callback(handle, CURLOPT_XFERINFOFUNCTION, curlProgressCallback),
                  CURLOPT_XFERINFOFUNCTION)
            set(CURLOPT_XFERINFODATA, pointer: opaqueSelf)
            set(CURLOPT_NOPROGRESS, 0)
        }
        if request.destination.fileName != nil { set(CURLOPT_BUFFERSIZE, Self.downloadBufferSize) }
        if sink.requestedOffset > 0 { set(CURLOPT_RANGE, "\(sink.requestedOffset)-") }

        try configureBody(set: set, setOffset: { set($0, offset: $1) }, check: check)
        try setHeaders(check: check)

        if !failed.isEmpty {
            let names = failed.map { String($0.rawValue) }.joined(separator: ", ")
            throw TransferError(kind: .invalidRequest, message: "libcurl refused option(s) \(names)", url: request.url)
        }
    }

    /// Large receive buffers for file downloads: on loopback, 1 MiB took half the CPU of 256 KiB.
    static let downloadBufferSize = 1 << 20
    static let uploadBufferSize = 512 << 10

    /// Picks how the method and body reach libcurl, so that libcurl's own method logic (POST turning
    /// into GET on a 303, say) applies, and `CUSTOMREQUEST` only names methods libcurl has no switch for.
    private func configureBody(set: (CURLoption, Int) -> Void, setOffset: (CURLoption, Int64) -> Void,
                               check: (CURLcode, CURLoption) -> Void) throws(TransferError) {
        let method = request.method
        // The method goes on the request line as it is: RFC 9110 token characters only.
        guard !method.rawValue.isEmpty, method.rawValue.utf8.allSatisfy(Self.isTokenCharacter) else {
            throw TransferError(kind: .invalidRequest, message: "invalid method '\(method.rawValue)'", url: request.url)
        }
        var impliedMethod: HTTPMethod = .get
        switch request.body {
        case .empty:
            if method == .head {
                set(CURLOPT_NOBODY, 1)
                impliedMethod = .head
            } else if [.post, .put, .patch].contains(method) {
                // A bodiless POST/PUT/PATCH still says `Content-Length: 0`.
                setOffset(CURLOPT_POSTFIELDSIZE_LARGE, 0)
                check(CCurl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""), CURLOPT_COPYPOSTFIELDS)
                impliedMethod = .post
            }
        case .data(let data):
            setOffset(CURLOPT_POSTFIELDSIZE_LARGE, Int64(data.count))
            let code = data.isEmpty
                ? CCurl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
                : data.withUnsafeBytes { bytes in
                    CCurl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress!))
                }
            check(code, CURLOPT_COPYPOSTFIELDS)
            impliedMethod = .post
        case .file(let path):
            let source = UploadSource(file: try UploadFile(path: path))
            upload = source
            check(CCurl_easy_setopt_read_callback(handle, CURLOPT_READFUNCTION, curlReadCallback), CURLOPT_READFUNCTION)
            check(CCurl_easy_setopt_pointer(handle, CURLOPT_READDATA, opaqueSelf), CURLOPT_READDATA)
            check(CCurl_easy_setopt_seek_callback(handle, CURLOPT_SEEKFUNCTION, curlSeekCallback), CURLOPT_SEEKFUNCTION)
            check(CCurl_easy_setopt_pointer(handle, CURLOPT_SEEKDATA, opaqueSelf), CURLOPT_SEEKDATA)
            set(CURLOPT_UPLOAD_BUFFERSIZE, Self.uploadBufferSize)
            if method == .post {
                set(CURLOPT_POST, 1)
                setOffset(CURLOPT_POSTFIELDSIZE_LARGE, source.size)
                impliedMethod = .post
            } else {
                set(CURLOPT_UPLOAD, 1)
                setOffset(CURLOPT_INFILESIZE_LARGE, source.size)
                impliedMethod = .put
            }
        case .multipart(let form):
            let source = UploadSource(file: try form.file.open(), observer: form.file.observer)
            upload = source
            let mime = try Multipart.build(form, source: source, on: handle, context: opaqueSelf)
            self.mime = mime
            check(CCurl_easy_setopt_mime(handle, mime), CURLOPT_MIMEPOST)
            impliedMethod = .post
        }
        if method != impliedMethod {
            check(method.rawValue.withCString { CCurl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, $0) },
                  CURLOPT_CUSTOMREQUEST)
        }
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && !#""(),/:;<=>?@[\]{}"#.utf8.contains(byte)
    }

    private func setHeaders(check: (CURLcode, CURLoption) -> Void) throws(TransferError) {
        // A line break inside a field would start a header (or a request) of the caller's data's choosing.
        for field in request.headers where field.name.isEmpty || !field.name.utf8.allSatisfy(Self.isTokenCharacter)
            || field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw TransferError(kind: .invalidRequest, message: "invalid header field '\(field.name)'", url: request.url)
        }
        var lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        // `Expect: 100-continue` costs a round trip (or a one-second wait) on every upload.
        if !request.headers.contains("Expect") { lines.append("Expect:") }
        // libcurl labels raw bodies as form-urlencoded unless told otherwise.
        if !request.headers.contains("Content-Type") {
            switch request.body {
            case .data, .file, .empty: lines.append("Content-Type:")
            case .multipart: break
            }
        }
        for line in lines {
            headerList = curl_slist_append(headerList, line)
        }
        check(CCurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), CURLOPT_HTTPHEADER)
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    var wholeSecondsRoundedUp: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }
}
