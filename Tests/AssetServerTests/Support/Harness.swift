import AssetServer
import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Crypto
import Testing
import TestSupport

/// A running server in a fresh temporary data folder, and a client on one keep-alive connection.
/// With `ASSETS_TEST_BLOBS=s3` its blobs are in moto: uploads and storage links then go there (``fetch(_:)``).
struct Harness: Sendable {
    let server: RunningAssetServer
    let client: TestClient
    let dataDirectory: String
    /// The bucket and prefix of the server's blobs; nil for the emulated storage under `dataDirectory`.
    var s3: S3Location? = nil

    var port: Int { server.url.port! }
    var authority: String { "127.0.0.1:\(port)" }
    var base: String { server.url.absoluteString }

    static let v2 = "application/json; version=2.0"

    /// Sends a request; `auth: .none` sends no `Authorization`, `accept: nil` no `Accept`.
    func send(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, auth: Auth = .main,
        accept: String? = Harness.v2, headers extra: [String: String] = [:]
    ) async throws -> Reply {
        var headers = HTTPFields()
        let chosenToken: String?
        switch auth {
        case .main: chosenToken = server.token
        case .none: chosenToken = nil
        case .token(let token): chosenToken = token
        }
        if let chosenToken { headers[.authorization] = "Token \(chosenToken)" }
        if let accept { headers[.accept] = accept }
        if json != nil { headers[.contentType] = "application/json" }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let request = TestClient.Request(
            path, method: method, authority: authority, headers: headers, body: json.map { ByteBuffer(string: $0) })
        return Reply(try await client.execute(request))
    }

    func get(_ path: String, accept: String? = Harness.v2, auth: Auth = .main) async throws -> Reply {
        try await send(.get, path, auth: auth, accept: accept)
    }

    func post(_ path: String, _ json: String, accept: String? = Harness.v2, auth: Auth = .main) async throws -> Reply {
        try await send(.post, path, json: json, auth: auth, accept: accept)
    }

    /// Creates a database and returns its id.
    func createDatabase(_ name: String = "db", type: String = "Asset", auth: Auth = .main) async throws -> String {
        let reply = try await post("/api/databases/", #"{"name": "\#(name)", "type": "\#(type)"}"#, auth: auth)
        #expect(reply.status == 201, "\(reply.text)")
        return try #require(reply.object["id"] as? String)
    }

    /// Creates an asset and returns (asset id, upload fields in order).
    func createAsset(_ database: String, filename: String = "a.txt") async throws -> CreatedAsset {
        let reply = try await post("/api/databases/\(database)/assets/", #"{"filename": \#(jsonString(filename))}"#)
        #expect(reply.status == 201, "\(reply.text)")
        let asset = try #require(reply.object["asset"] as? [String: Any])
        return CreatedAsset(
            id: try #require(asset["id"] as? String), uploadURL: try #require(reply.object["upload_url"] as? String),
            fields: orderedFields(reply.text))
    }

    /// A presigned POST of `bytes` with the given fields, over the shared connection.
    func upload(
        _ fields: [(String, String)], file bytes: [UInt8], filename: String = "file.bin",
        headers extra: [String: String] = [:],
        fileFirst: Bool = false
    ) async throws -> Reply {
        let boundary = "----harness\(UInt64.random(in: 0...UInt64.max))"
        var body: [UInt8] = []
        func part(_ name: String, _ value: [UInt8], filename: String? = nil) {
            var header = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
            if let filename { header += "; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream" }
            body += Array((header + "\r\n\r\n").utf8) + value + Array("\r\n".utf8)
        }
        if fileFirst { part("file", bytes, filename: filename) }
        for (name, value) in fields { part(name, Array(value.utf8)) }
        if !fileFirst { part("file", bytes, filename: filename) }
        body += Array("--\(boundary)--\r\n".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        var buffer = ByteBuffer()
        buffer.writeBytes(body)
        if let s3 {
            return try await Self.outside(
                "\(s3.endpoint)/\(s3.bucket)", method: .POST, headers: headers.map { ($0.name.rawName, $0.value) },
                body: buffer)
        }
        let request = TestClient.Request(
            "/_storage/upload/", method: .post, authority: authority, headers: headers, body: buffer)
        return Reply(try await client.execute(request))
    }

    /// Creates, uploads and marks an asset; returns its id.
    func uploadedAsset(_ database: String, filename: String = "a.txt", bytes: [UInt8]) async throws -> String {
        let asset = try await createAsset(database, filename: filename)
        let upload = try await self.upload(asset.fields, file: bytes)
        #expect(upload.status == 204, "\(upload.text)")
        let mark = try await send(
            .patch, "/api/databases/\(database)/assets/\(asset.id)/", json: #"{"is_uploaded": true}"#)
        #expect(mark.status == 200, "\(mark.text)")
        return asset.id
    }

    /// `GET` (or another method) of an absolute storage link without a token: through the shared connection when it
    /// points at this server, otherwise (S3) through a client of its own.
    func fetch(_ url: String, method: HTTPRequest.Method = .get, headers: [String: String] = [:]) async throws
        -> Reply
    {
        if url.hasPrefix(base + "/") {
            return try await send(method, pathAndQuery(url), auth: .none, accept: nil, headers: headers)
        }
        return try await Self.outside(
            url, method: .init(rawValue: method.rawValue), headers: headers.map { ($0.key, $0.value) }, body: nil)
    }

    static func outside(_ url: String, method: NIOHTTP1.HTTPMethod, headers: [(String, String)], body: ByteBuffer?)
        async throws -> Reply
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        var fields = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        let bytes = try await response.body.collect(upTo: 256 << 20)
        return Reply(status: Int(response.status.code), headers: fields, bytes: Array(bytes.readableBytesView))
    }

    /// The path and query of an absolute URL on this server.
    func pathAndQuery(_ url: String) -> String {
        let components = URLComponents(string: url)!
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    func admin(_ route: String, _ json: String) async throws -> Reply {
        try await send(.post, "/_admin/\(route)", json: json, accept: nil)
    }
}

enum Auth: Sendable {
    case main, none
    case token(String)
}

struct CreatedAsset {
    var id: String
    var uploadURL: String
    var fields: [(String, String)]
}

struct Reply: Sendable {
    var status: Int
    var headers: HTTPFields
    var bytes: [UInt8]

    init(_ response: TestClient.Response) {
        status = response.status.code
        headers = response.headers
        bytes = response.body.map { Array($0.readableBytesView) } ?? []
    }

    init(status: Int, headers: HTTPFields, bytes: [UInt8]) {
        (self.status, self.headers, self.bytes) = (status, headers, bytes)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
    var json: Any { (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) ?? NSNull() }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var detail: String? { object["detail"] as? String }

    subscript(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    /// The `Link` header as rel → URL.
    var links: [String: String] {
        var result: [String: String] = [:]
        for item in (self["Link"] ?? "").components(separatedBy: ", ") {
            guard let open = item.firstIndex(of: "<"), let close = item.firstIndex(of: ">"),
                let relRange = item.range(of: "rel=\"")
            else { continue }
            let rel = item[relRange.upperBound...].prefix { $0 != "\"" }
            result[String(rel)] = String(item[item.index(after: open)..<close])
        }
        return result
    }
}

/// Runs `body` against a fresh server (or one on `dataDirectory`) with a connected client.
func withHarness<R: Sendable>(
    dataDirectory: String? = nil, faults: String? = nil, configure: (inout AssetServerConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (Harness) async throws -> R
) async throws -> R {
    let directory = dataDirectory ?? temporaryDirectory()
    var configuration = AssetServerConfiguration(dataDirectory: directory, port: 0, faults: faults)
    // A restart on the same data folder keeps the bucket prefix it started with.
    configuration.blobs = try await testBlobs(
        TestS3.isDefaultBlobStore ? .s3(try await TestS3.location(prefix: "run-" + stableName(directory))) : nil)
    configuration.metadata = try TestMetadata.location(forDataDirectory: directory)
    configure(&configuration)
    var logger = Logger(label: "test.server")
    logger.logLevel = .critical
    let s3: S3Location? = if case .s3(let location) = configuration.blobs { location } else { nil }
    return try await withAssetServer(configuration, logger: logger) { server in
        try await TestClient.withClient(host: "127.0.0.1", port: server.url.port!) { client in
            try await body(Harness(server: server, client: client, dataDirectory: directory, s3: s3))
        }
    }
}

/// A short name that is the same for the same folder.
func stableName(_ path: String) -> String {
    String(SHA256.hash(data: Array(path.utf8)).map { String(format: "%02x", $0) }.joined().prefix(12))
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "asset-server-tests/" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func jsonString(_ text: String) -> String {
    String(data: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), encoding: .utf8)!
}

/// The `fields` object of a create-asset answer, in the order the server wrote them.
func orderedFields(_ text: String) -> [(String, String)] {
    guard let start = text.range(of: "\"fields\":{") else { return [] }
    let rest = text[start.upperBound...]
    let body = rest.prefix { $0 != "}" }
    var fields: [(String, String)] = []
    var scanner = Substring(body)
    while let keyStart = scanner.firstIndex(of: "\"") {
        let afterKey = scanner.index(after: keyStart)
        guard let keyEnd = scanner[afterKey...].firstIndex(of: "\"") else { break }
        let key = String(scanner[afterKey..<keyEnd])
        guard let valueStart = scanner[scanner.index(after: keyEnd)...].firstIndex(of: "\"") else { break }
        let afterValue = scanner.index(after: valueStart)
        guard let valueEnd = scanner[afterValue...].firstIndex(of: "\"") else { break }
        fields.append((key, String(scanner[afterValue..<valueEnd])))
        scanner = scanner[scanner.index(after: valueEnd)...]
    }
    return fields
}

func randomBytes(_ count: Int) -> [UInt8] {
    let handle = FileHandle(forReadingAtPath: "/dev/urandom")!
    defer { try? handle.close() }
    return [UInt8](handle.readData(ofLength: count))
}

enum TestClientBox {
    static func with<R: Sendable>(_ h: Harness, _ body: @escaping @Sendable (Harness) async throws -> R) async throws
        -> R
    {
        try await TestClient.withClient(host: "127.0.0.1", port: h.port) { client in
            try await body(Harness(server: h.server, client: client, dataDirectory: h.dataDirectory, s3: h.s3))
        }
    }
}
