import Foundation
import Hummingbird
import WireFormat

extension ServerResponder {
    /// Storage: no API token (a request carrying `Authorization` is refused), faults per upload/download class,
    /// XML errors.
    func storage(_ route: Route, request: Request, context: ServerContext) async throws -> Response {
        do {
            if request.headers[.authorization] != nil {
                throw StorageError.invalidArgument(
                    "Unsupported Authorization Type: storage links carry their own signature")
            }
            let fault = state.faults.decide(route.kind == .upload ? .upload : .download)
            await fault.applyLatency()
            switch fault.status {
            case .throttle(let seconds):
                var error = StorageError(
                    status: .tooManyRequests, code: "SlowDown", message: "Please reduce your request rate.")
                error.headers[.pbRetryAfter] = String(seconds)
                throw error
            case .unavailable:
                throw StorageError(
                    status: .serviceUnavailable, code: "ServiceUnavailable", message: "Please reduce your request rate."
                )
            default: break
            }
            let method = request.method.rawValue
            guard route.allowedMethods.contains(method) else {
                var error = StorageError(
                    status: .methodNotAllowed, code: "MethodNotAllowed",
                    message: "The specified method is not allowed against this resource.")
                error.headers[.pbAllow] = route.allowedMethods.joined(separator: ", ")
                throw error
            }
            switch route {
            case .storageObject(let key):
                if case .serverError = fault.status { throw StorageError.internalError }
                return try await download(key: key, request: request, context: context, reset: fault.reset)
            default:
                return try await upload(request, context: context, fault: fault)
            }
        } catch let error as StorageError {
            return Self.storageResponse(error)
        } catch is ConnectionReset {
            throw ConnectionReset()
        } catch {
            // Mostly clients that went away mid-body; not worth an error line.
            state.logger.notice("storage request failed", metadata: ["error": "\(error)"])
            return Self.storageResponse(.internalError)
        }
    }

    /// `GET`/`HEAD /_storage/objects/<key>?X-Amz-...`: a signed, expiring link; `Range` gives `206` or `416`.
    func download(key: String, request: Request, context: ServerContext, reset: Bool) async throws -> Response {
        let query = Query(request.uri.query)
        guard let date = query["X-Amz-Date"], let expires = query["X-Amz-Expires"],
            let signature = query["X-Amz-Signature"],
            query["X-Amz-Algorithm"] == Signer.algorithm, query["X-Amz-Credential"] != nil
        else {
            throw StorageError.accessDenied(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
            )
        }
        let signed = query.items.filter { $0.name != "X-Amz-Signature" }.map { ($0.name, $0.value) }
        // Links are issued for GET; a HEAD with the same link is checked as that GET.
        guard
            state.signer.isValidDownload(
                signature: signature, method: "GET", key: key, query: signed, amzDate: date, baseURL: state.linkBase)
        else { throw StorageError.signatureMismatch }
        // Checked: the lifetime is a number from the request (signed, but a bug in a signer must not trap here).
        guard let signedAt = Timestamp.parseAmzDate(date), let lifetime = Int64(expires), lifetime >= 0,
            case let (micros, overflow1) = lifetime.multipliedReportingOverflow(by: Timestamp.microsPerSecond),
            case let (expiry, overflow2) = signedAt.addingReportingOverflow(micros), !overflow1, !overflow2,
            state.clock.now < expiry
        else { throw StorageError.accessDenied("Request has expired") }
        guard let object = try await state.store.object(key) else { throw StorageError.noSuchKey }

        let etag = "\"\(object.md5)\""
        var headers: HTTPFields = [:]
        headers[.eTag] = etag
        headers[.acceptRanges] = "bytes"
        headers[.contentType] = object.contentType
        headers[.lastModified] = HTTPDate.format(object.createdAt)
        if let ifMatch = request.headers[.ifMatch], ifMatch != "*",
            !ifMatch.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == etag
            })
        {
            throw StorageError(
                status: .preconditionFailed, code: "PreconditionFailed",
                message: "At least one of the pre-conditions you specified did not hold")
        }
        if let ifNoneMatch = request.headers[.ifNoneMatch], ifNoneMatch.contains(etag) || ifNoneMatch == "*" {
            return Response(status: .notModified, headers: headers)
        }
        var range: ClosedRange<Int64>? = nil
        if let rangeHeader = request.headers[.range] {
            switch ByteRange.parse(rangeHeader, size: object.size) {
            case .whole: break
            case .range(let satisfiable): range = satisfiable
            case .unsatisfiable:
                var error = StorageError(
                    status: .rangeNotSatisfiable, code: "InvalidRange",
                    message: "The requested range is not satisfiable")
                error.headers[.contentRange] = "bytes */\(object.size)"
                throw error
            }
        }
        let start = range?.lowerBound ?? 0
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? object.size
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(object.size)" }
        headers[.contentLength] = String(length)
        let status: HTTPResponse.Status = range == nil ? .ok : .partialContent
        if request.method == .head { return Response(status: status, headers: headers) }
        state.logger.debug("storage download", metadata: [
            "key": "\(key)", "range": "\(request.headers[.range] ?? "")", "offset": "\(start)", "bytes": "\(length)",
        ])
        let path = state.store.blobPath(object.file)
        return Response(
            status: status, headers: headers,
            body: ResponseBody { writer in
                try await FileStreamer.stream(path: path, offset: start, length: length, to: &writer) { sent in
                    guard reset, sent >= length / 2 else { return }
                    await context.resetConnection()
                    throw ConnectionReset()
                }
            })
    }
}

enum ByteRange {
    case whole
    case range(ClosedRange<Int64>)
    case unsatisfiable

    /// A single `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else is ignored (the whole object), as S3 does.
    static func parse(_ header: String, size: Int64) -> ByteRange {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes="), !text.contains(",") else { return .whole }
        let spec = text.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return .whole }
        let first = spec[0].trimmingCharacters(in: .whitespaces)
        let last = spec[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int64(last) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .range(max(0, size - suffix)...(size - 1))
        }
        guard let from = Int64(first) else { return .whole }
        var to = Int64.max
        if !last.isEmpty {
            guard let value = Int64(last), value >= from else { return .whole }
            to = value
        }
        guard from < size else { return .unsatisfiable }
        return .range(from...min(to, size - 1))
    }
}

enum FileStreamer {
    static let chunkSize = 256 * 1024

    /// Writes `length` bytes of the file from `offset`, chunk by chunk; `afterChunk` sees the running total.
    static func stream(
        path: String, offset: Int64, length: Int64, to writer: inout any ResponseBodyWriter,
        afterChunk: (Int64) async throws -> Void
    ) async throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        var sent: Int64 = 0
        let allocator = ByteBufferAllocator()
        while sent < length {
            let want = Int(min(Int64(chunkSize), length - sent))
            var buffer = allocator.buffer(capacity: want)
            var failure: Int32 = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { target in
                let count = pread(descriptor, target.baseAddress!, want, off_t(offset + sent))
                if count < 0 { failure = errno }
                return max(0, count)
            }
            guard failure == 0, buffer.readableBytes > 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: failure) ?? .EIO)
            }
            sent += Int64(buffer.readableBytes)
            try await writer.write(buffer)
            try await afterChunk(sent)
        }
        try await writer.finish(nil)
    }
}

enum HTTPDate {
    static func format(_ micros: Micros) -> String {
        var seconds = time_t(micros / Timestamp.microsPerSecond)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
