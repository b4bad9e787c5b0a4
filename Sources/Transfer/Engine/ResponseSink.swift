import CCurl
import Foundation

/// Where one attempt writes the response body: memory with a cap, or a file with `Range` resume.
///
/// The decision for a file destination waits for the first body byte (or the end of an empty
/// body), when the status is known: a `2xx` goes to the file, anything else to memory so that an
/// error page never clobbers a partial download.
final class ResponseSink {
    enum Failure {
        /// The memory cap was reached (kind `responseTooLarge`).
        case tooLarge(limit: Int)
        /// Writing the file failed (errno).
        case file(Int32)
        /// A `206` whose `Content-Range` does not start where the file ends.
        case rangeMismatch(expected: Int64, got: String)
        /// The file would grow past what the server announced or the caller expected.
        case tooLong(limit: Int64, announced: String)
    }

    /// Bytes kept of a non-2xx body when the destination is a file: enough for an error message.
    static let errorBodyLimit = 1 << 20

    private enum Mode {
        case undecided
        case memory(limit: Int, failOnOverflow: Bool)
        case file(fd: Int32)
    }

    private let destination: ResponseDestination
    /// The object's size known beforehand, if any.
    private let expectedSize: Int64?
    /// The length the file may reach (set when a 2xx body starts going to the file) and what set it.
    private var fileLimit: (bytes: Int64, announced: String)?
    private var fileBytes: Int64 = 0
    /// Bytes written since the file's writeback was last started.
    private var unflushedBytes = 0
    /// Bytes on disk that were asked for with `Range: bytes=N-` (0: no range sent).
    let requestedOffset: Int64
    private var mode: Mode = .undecided
    private(set) var body = Data()
    private(set) var failure: Failure?
    /// The body was cut at `errorBodyLimit`; the response is still reported.
    private(set) var errorBodyTruncated = false
    private(set) var bytesReceived: Int64 = 0
    private(set) var resumedFrom: Int64 = 0
    /// The file was opened for writing by this attempt: a retry may resume from what it holds.
    private(set) var wroteToFile = false
    /// Told where file writing starts and shown each chunk after it is written.
    var observer: (any ResponseBodyObserver)?

    init(destination: ResponseDestination, requestedOffset: Int64, expectedSize: Int64? = nil) {
        self.destination = destination
        self.requestedOffset = requestedOffset
        self.expectedSize = expectedSize
    }

    deinit {
        if case .file(let fd) = mode { close(fd) }
    }

    /// Takes body bytes; returns false to make libcurl abort the transfer.
    func write(_ bytes: UnsafeRawBufferPointer, status: @autoclosure () -> Int,
               headers: @autoclosure () -> HTTPHeaders) -> Bool {
        if case .undecided = mode, !decide(status: status(), headers: headers()) { return false }
        bytesReceived += Int64(bytes.count)
        switch mode {
        case .undecided:
            return false
        case .memory(let limit, let failOnOverflow):
            let room = limit - body.count
            if bytes.count <= room {
                body.append(contentsOf: bytes)
                return true
            }
            body.append(contentsOf: bytes.prefix(max(0, room)))
            if failOnOverflow { failure = .tooLarge(limit: limit) } else { errorBodyTruncated = true }
            return false
        case .file(let fd):
            let (total, overflow) = fileBytes.addingReportingOverflow(Int64(bytes.count))
            if let limit = fileLimit, overflow || total > limit.bytes {
                failure = .tooLong(limit: limit.bytes, announced: limit.announced)
                return false
            }
            fileBytes = total
            guard writeAll(fd: fd, bytes) else { return false }
            observer?.wroteToFile(bytes)
            startWritebackEveryFewMebibytes(fd: fd, wrote: bytes.count)
            return true
        }
    }

    /// Ends the body and closes the file. With `createIfEmpty` (a completed exchange that may have
    /// a body), an empty `2xx` body still creates or truncates the file. Returns false on failure.
    func finish(status: Int, headers: HTTPHeaders, createIfEmpty: Bool) -> Bool {
        if case .undecided = mode, createIfEmpty, !decide(status: status, headers: headers) { return false }
        if case .file(let fd) = mode {
            mode = .undecided
            if close(fd) != 0 && failure == nil {
                failure = .file(errno)
                return false
            }
        }
        return true
    }

    private func decide(status: Int, headers: HTTPHeaders) -> Bool {
        if case .memory(let limit) = destination {
            mode = .memory(limit: limit, failOnOverflow: true)
            return true
        }
        guard (200..<300).contains(status) else {
            mode = .memory(limit: Self.errorBodyLimit, failOnOverflow: false)
            return true
        }
        let appending = status == 206 && requestedOffset > 0
        if appending {
            let contentRange = headers["Content-Range"] ?? ""
            guard Self.rangeStart(contentRange) == requestedOffset else {
                failure = .rangeMismatch(expected: requestedOffset, got: contentRange)
                return false
            }
        }
        let fd: Int32
        switch destination {
        case .memory:
            return false
        case .file(let path, _):
            fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        case .openFile(let descriptor, _, _):
            // A duplicate shares the caller's file (and offset) but is closed by the sink like an opened one.
            fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        }
        guard fd >= 0 else {
            failure = .file(errno)
            return false
        }
        let offset = appending ? requestedOffset : 0
        guard ftruncate(fd, off_t(offset)) == 0, lseek(fd, off_t(offset), SEEK_SET) == offset else {
            failure = .file(errno)
            close(fd)
            return false
        }
        mode = .file(fd: fd)
        fileBytes = offset
        fileLimit = Self.limit(forStatus: status, headers: headers, offset: offset, expectedSize: expectedSize)
        resumedFrom = offset
        wroteToFile = true
        observer?.beginFile(at: offset)
        return true
    }

    static let writebackInterval = 8 << 20

    /// Hands what was written so far to the disk as the download goes, so that the fsync a caller makes once
    /// the file is complete (a pull's, before its rename) waits for the last few mebibytes, not the whole file.
    private func startWritebackEveryFewMebibytes(fd: Int32, wrote count: Int) {
        unflushedBytes += count
        guard unflushedBytes >= Self.writebackInterval else { return }
        unflushedBytes = 0
        _ = CCurl_start_writeback(fd)
    }

    private func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var pointer = bytes.baseAddress else { return true }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Foundation.write(fd, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                failure = .file(errno)
                return false
            }
            remaining -= written
            pointer += written
        }
        return true
    }

    /// The smallest of: the listed size, the `Content-Range` total, and the offset plus `Content-Length`.
    /// Values that do not parse (or overflow) set no limit: libcurl already rejects a malformed length.
    static func limit(forStatus status: Int, headers: HTTPHeaders, offset: Int64, expectedSize: Int64?)
        -> (bytes: Int64, announced: String)? {
        var limits: [(bytes: Int64, announced: String)] = []
        if let expectedSize { limits.append((expectedSize, "the listed size")) }
        if status == 206, let total = headers["Content-Range"].flatMap(rangeTotal) {
            limits.append((total, "its Content-Range"))
        }
        if let text = headers["Content-Length"], let length = Int64(text.trimmingCharacters(in: .whitespaces)),
           length >= 0 {
            let (sum, overflow) = offset.addingReportingOverflow(length)
            if !overflow { limits.append((sum, "its Content-Length")) }
        }
        return limits.min { $0.bytes < $1.bytes }
    }

    /// The total of `bytes START-END/TOTAL` (nil for `*` or anything unreadable).
    static func rangeTotal(_ contentRange: String) -> Int64? {
        guard let slash = contentRange.lastIndex(of: "/") else { return nil }
        return Int64(contentRange[contentRange.index(after: slash)...].trimmingCharacters(in: .whitespaces))
    }

    /// The first byte position of `bytes START-END/TOTAL`.
    static func rangeStart(_ contentRange: String) -> Int64? {
        let trimmed = contentRange.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = trimmed.dropFirst("bytes ".count)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        return Int64(spec[..<dash].trimmingCharacters(in: .whitespaces))
    }
}
