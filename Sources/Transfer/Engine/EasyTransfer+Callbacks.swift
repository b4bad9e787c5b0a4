import CCurl
import Foundation

// libcurl's callbacks. They cannot capture context: each receives the `EasyTransfer` through the
// pointer set with WRITEDATA/HEADERDATA/READDATA/SEEKDATA/XFERINFODATA, and runs on the loop thread.

let curlWriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    buffer, size, count, context in
    let transfer = EasyTransfer.from(context)
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
    // Anything other than `length` makes libcurl fail with CURLE_WRITE_ERROR.
    return transfer.sink.write(bytes, status: transfer.responseCode, headers: transfer.responseHeaders) ? length : 0
}

let curlHeaderCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    buffer, size, count, context in
    let transfer = EasyTransfer.from(context)
    let length = size * count
    transfer.receivedHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

let curlReadCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    buffer, size, count, context in
    guard let buffer, let upload = EasyTransfer.from(context).upload else { return Int(CCurl_readfunc_abort()) }
    return upload.read(into: buffer, capacity: size * count) ?? Int(CCurl_readfunc_abort())
}

let curlSeekCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, Int32) -> Int32 = {
    context, offset, origin in
    guard origin == SEEK_SET, let upload = EasyTransfer.from(context).upload, upload.seek(to: Int64(offset)) else {
        return CCurl_seekfunc_fail()
    }
    return CCurl_seekfunc_ok()
}

let curlProgressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
    -> Int32 = { context, downloadTotal, downloaded, uploadTotal, uploaded in
    EasyTransfer.from(context).reportProgress(
        TransferProgress(uploaded: Int64(uploaded), uploadTotal: uploadTotal > 0 ? Int64(uploadTotal) : nil,
                         downloaded: Int64(downloaded), downloadTotal: downloadTotal > 0 ? Int64(downloadTotal) : nil),
        force: false)
    return 0
}

extension EasyTransfer {
    /// At most one progress report per this interval, so that progress is cheap to leave on.
    static let progressInterval: UInt64 = 100_000_000

    func reportProgress(_ progress: TransferProgress, force: Bool) {
        guard let report = request.progress else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now &- lastProgressReport >= Self.progressInterval else { return }
        lastProgressReport = now
        report(progress)
    }

    var responseCode: Int {
        var code = 0
        CCurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// Parses one header line on bytes: Foundation's trimming was a third of a small request's CPU.
    func receivedHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var end = bytes.count
        while end > 0, isSpace(bytes[end - 1]) { end -= 1 }
        if bytes.starts(with: "HTTP/".utf8) {
            responseHeaders = HTTPHeaders()
            return
        }
        guard let colon = bytes[0..<end].firstIndex(of: UInt8(ascii: ":")) else { return }
        var nameEnd = colon
        while nameEnd > 0, isSpace(bytes[nameEnd - 1]) { nameEnd -= 1 }
        var valueStart = colon + 1
        while valueStart < end, isSpace(bytes[valueStart]) { valueStart += 1 }
        responseHeaders.add(name: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<nameEnd]), as: UTF8.self),
                            value: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<end]), as: UTF8.self))
    }
}
