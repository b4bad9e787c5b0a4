import Crypto
import Foundation
import Hummingbird

extension ServerResponder {
    /// `POST /_storage/upload/`: a presigned POST, streamed to a temporary file while hashing MD5.
    func upload(_ request: Request, context: ServerContext, fault: FaultDecision) async throws -> Response {
        guard let lengthText = request.headers[.contentLength], let length = Int64(lengthText), length >= 0 else {
            throw StorageError(
                status: .lengthRequired, code: "MissingContentLength",
                message: "You must provide the Content-Length HTTP header.")
        }
        let besidesTheFile = Int64(FormDataReader.maxFieldBytes + FormDataReader.maxFramingBytes)
        let largestBody = state.limits.maxUploadSize.addingReportingOverflow(besidesTheFile)
        guard largestBody.overflow || length <= largestBody.partialValue else { throw Self.entityTooLarge }
        guard let boundary = FormDataReader.boundary(contentType: request.headers[.contentType] ?? "") else {
            throw StorageError(
                status: .preconditionFailed, code: "PreconditionFailed",
                message: "Bucket POST must be of the enclosure-type multipart/form-data")
        }
        let sink = try HashingFileWriter(path: state.store.temporaryPath())
        defer { sink.discard() }
        let form = FormDataReader(boundary: boundary)
        var fields: [(name: String, value: String)] = []
        var permit: Result<UploadPermit, StorageError>?
        var received: Int64 = 0
        let now = state.clock.now
        var pace = BodyPace(state.limits)
        do {
            for try await buffer in request.body {
                received += Int64(buffer.readableBytes)
                guard pace.received(buffer.readableBytes) else {
                    throw StorageError(
                        status: .badRequest, code: "RequestTimeout",
                        message: "Your socket connection to the server was not read from or written to within the timeout period.")
                }
                if fault.reset && received >= length / 2 {
                    await context.resetConnection()
                    throw ConnectionReset()
                }
                try form.feed(buffer) { event in
                    switch event {
                    case .field(let name, let value):
                        fields.append((name, value))
                    case .fileStart:
                        // Checked before any byte is kept; a refused upload is read to its end and dropped.
                        permit = Result { () throws(StorageError) in
                            try state.signer.permit(fields: fields, now: now)
                        }
                    case .fileData(let slice):
                        if case .success = permit { try slice.withUnsafeReadableBytes { try sink.write($0) } }
                    }
                }
            }
            try form.finish()
        } catch let malformed as FormDataReader.Malformed {
            throw StorageError.malformed(
                "The body of your POST request is not well-formed multipart/form-data: \(malformed.reason).")
        }
        guard let permit else {
            throw StorageError.invalidArgument("POST requires exactly one file upload per request.")
        }
        let allowed = try permit.get()
        guard sink.size <= allowed.sizeRange.upperBound else { throw Self.entityTooLarge }
        guard sink.size >= allowed.sizeRange.lowerBound else {
            throw StorageError(
                status: .badRequest, code: "EntityTooSmall",
                message: "Your proposed upload is smaller than the minimum allowed size")
        }
        let md5 = try sink.finish()
        try await state.store.commitBlob(
            temporaryPath: sink.path, key: allowed.key, size: sink.size, md5: md5, contentType: allowed.contentType,
            now: state.clock.now)
        if case .serverError = fault.status { throw StorageError.internalError }
        var headers: HTTPFields = [:]
        headers[.eTag] = "\"\(md5)\""
        let location = "\(baseURL(request))/_storage/objects/\(allowed.key)"
        headers[.location] = location
        switch allowed.successStatus {
        case 201:
            headers[.contentType] = "application/xml"
            let xml =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>\(XML.escape(location))</Location>"
                + "<Bucket>local</Bucket><Key>\(XML.escape(allowed.key))</Key><ETag>&quot;\(md5)&quot;</ETag></PostResponse>"
            return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: xml)))
        case 200:
            return Response(status: .ok, headers: headers)
        default:
            return Response(status: .noContent, headers: headers)
        }
    }

    static let entityTooLarge = StorageError(
        status: .badRequest, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size")
}
