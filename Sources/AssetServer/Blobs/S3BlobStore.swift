import AsyncHTTPClient
import Crypto
import Foundation
import WireFormat
import NIOCore
import NIOHTTP1

/// Blobs in an S3 bucket: clients upload with presigned POST policies and download with presigned GET links
/// straight from the bucket; the server checks objects with signed `HEAD`s and writes export and archive files
/// with signed `PUT`s (a multipart upload past ``partSize``, 64 MiB).
struct S3BlobStore: BlobStore {
    let location: S3Location
    let signer: SigV4
    let client: HTTPClient
    /// Files larger than this go up in parts of this size (S3's smallest part is 5 MiB).
    let partSize: Int
    static let linkSeconds = Int(Signer.linkLifetime / Timestamp.microsPerSecond)

    init(location: S3Location, client: HTTPClient = .shared, partSize: Int = 64 << 20) {
        self.location = location
        self.client = client
        self.partSize = partSize
        signer = SigV4(
            credentials: .init(
                accessKeyID: location.accessKeyID, secretAccessKey: location.secretAccessKey,
                sessionToken: location.sessionToken),
            region: location.region)
    }

    /// `scheme://host[:port]` that object paths are relative to.
    var origin: String {
        guard !location.pathStyle, let components = URLComponents(string: location.endpoint),
            let scheme = components.scheme, let host = components.host
        else { return location.endpoint }
        return "\(scheme)://\(location.bucket).\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    /// The object's key in the bucket: the server's key under the prefix.
    func objectKey(_ key: String) -> String { location.prefix.isEmpty ? key : location.prefix + "/" + key }

    /// The raw (unencoded) request path of an object.
    func objectPath(_ key: String) -> String {
        (location.pathStyle ? "/\(location.bucket)/" : "/") + objectKey(key)
    }

    func uploadForm(key: String, now: Micros, maxSize: Int64) -> (url: String, fields: [(String, String)]) {
        let url = location.pathStyle ? "\(location.endpoint)/\(location.bucket)" : "\(origin)/"
        let fields = signer.postForm(
            bucket: location.bucket, key: objectKey(key), conditions: Signer.uploadConditions(maxSize: maxSize),
            amzDate: Timestamp.amzDate(now), expiration: Signer.expiration(now))
        return (url, fields)
    }

    func downloadURL(key: String, now: Micros) -> String {
        signer.presignedURL(
            base: origin, host: Signer.host(origin), path: objectPath(key), amzDate: Timestamp.amzDate(now),
            expires: Self.linkSeconds)
    }

    func size(of key: String) async throws -> Int64? {
        let reply = try await send("HEAD", key: key)
        switch reply.status {
        case 200:
            guard let text = reply.headers.first(name: "content-length"), let size = Int64(text), size >= 0 else {
                throw S3Error(operation: "HEAD", object: describe(key), status: 200, detail: "no Content-Length")
            }
            return size
        case 404: return nil
        default: throw reply.error("HEAD", object: describe(key))
        }
    }

    func contents(of key: String) async throws -> [UInt8]? {
        let reply = try await send("GET", key: key, limit: Int.max)
        switch reply.status {
        case 200: return reply.body
        case 404: return nil
        default: throw reply.error("GET", object: describe(key))
        }
    }

    func store(file path: String, key: String, size: Int64, md5: String, contentType: String, now: Micros)
        async throws
    {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        guard size > Int64(partSize) else {
            let body = try handle.readToEnd() ?? Data()
            // S3 refuses the PUT (BadDigest) unless the bytes it received have the MD5 the file was written with.
            let digest = Self.contentMD5(hex: md5).map { [("content-md5", $0)] } ?? []
            let reply = try await send(
                "PUT", key: key, headers: [("content-type", contentType)] + digest, body: [UInt8](body))
            guard reply.status == 200 else { throw reply.error("PUT", object: describe(key)) }
            return
        }
        let uploadID = try await startMultipart(key: key, contentType: contentType)
        do {
            var parts: [(number: Int, etag: String)] = []
            while let chunk = try handle.read(upToCount: partSize), !chunk.isEmpty {
                let number = parts.count + 1
                let reply = try await send(
                    "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                    body: [UInt8](chunk))
                guard reply.status == 200, let etag = reply.headers.first(name: "etag") else {
                    throw reply.error("PUT part \(number)", object: describe(key))
                }
                parts.append((number, etag))
            }
            let document =
                "<CompleteMultipartUpload>"
                + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(XML.escape($0.etag))</ETag></Part>" }
                .joined() + "</CompleteMultipartUpload>"
            let reply = try await send(
                "POST", key: key, query: [("uploadId", uploadID)], body: Array(document.utf8), limit: 1 << 20)
            // S3 may answer 200 and still report an error in the body.
            guard reply.status == 200, !reply.text.contains("<Error>") else {
                throw reply.error("CompleteMultipartUpload", object: describe(key))
            }
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }

    /// S3 has no part in the metadata transaction: the object is written at once, nothing is left to clean up.
    func store(
        file path: String, key: String, size: Int64, md5: String, contentType: String, now: Micros,
        within db: any SQLExecutor
    ) async throws -> BlobCleanup {
        try await store(file: path, key: key, size: size, md5: md5, contentType: contentType, now: now)
        return BlobCleanup()
    }

    private func startMultipart(key: String, contentType: String) async throws -> String {
        let reply = try await send(
            "POST", key: key, query: [("uploads", "")], headers: [("content-type", contentType)], limit: 1 << 20)
        guard reply.status == 200, let id = reply.xmlElement("UploadId"), !id.isEmpty else {
            throw reply.error("CreateMultipartUpload", object: describe(key))
        }
        return id
    }

    /// `Content-MD5` (base64 of the 16 bytes) of a hex MD5; nil when `hex` is not one.
    static func contentMD5(hex: String) -> String? {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return Data(bytes).base64EncodedString()
    }

    func describe(_ key: String) -> String { "s3://\(location.bucket)/\(objectKey(key))" }

    /// A header-signed request on the object of `key` (or, with `key` nil, on the bucket).
    func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8]? = nil, limit: Int = 1 << 20
    ) async throws -> S3Reply {
        let path = key.map(objectPath) ?? (location.pathStyle ? "/\(location.bucket)" : "/")
        let encodedPath = SigV4.encodePath(path)
        let payloadHash = body.map { SHA256.hash(data: $0).hexString } ?? SigV4.emptyPayloadHash
        let signed = signer.authorizationHeaders(
            method: method, host: Signer.host(origin), encodedPath: encodedPath, query: query, headers: headers,
            payloadHash: payloadHash, amzDate: Timestamp.amzDate(Timestamp.micros(Date())))
        let queryText = query.isEmpty ? "" : "?" + SigV4.canonicalQuery(query)
        var request = HTTPClientRequest(url: origin + encodedPath + queryText)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(300))
        let bytes = try await response.body.collect(upTo: method == "HEAD" ? 0 : limit)
        return S3Reply(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
    }
}

/// What S3 answered.
struct S3Reply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The text of the first `<name>` element.
    func xmlElement(_ name: String) -> String? {
        guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    func error(_ operation: String, object: String) -> S3Error {
        S3Error(
            operation: operation, object: object, status: status,
            detail: [xmlElement("Code"), xmlElement("Message")].compactMap { $0 }.joined(separator: ": "))
    }
}

/// An S3 request that failed, naming the object.
struct S3Error: Error, CustomStringConvertible {
    var operation: String
    var object: String
    var status: Int
    var detail: String

    var description: String {
        "S3 \(operation) of \(object) answered \(status)" + (detail.isEmpty ? "" : " (\(detail))")
    }
}
