import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A Hummingbird server on 127.0.0.1 with a random port, with routes that exercise the engine.
///
/// Routes: `/echo` (any method), `/upload` (hashes a streamed body), `/multipart` (parses a form),
/// `/blob/:size` (deterministic bytes with `Range`; `?cut=N` drops the connection after N bytes of a
/// non-range request; `?norange=1` ignores `Range`), `/stream` (slow endless body), `/stall`
/// (a trickle), `/trickle` (1 byte a second), `/overlong?declare=&send=` (a body longer than its
/// `Content-Length`), `/hostile` (an endless body), `/redirect?to=`, `/retry-after?key=&value=&times=`,
/// `/status/:code`, `/slow?ms=` (counts requests in flight).
final class TestHTTPServer: Sendable {
    let port: Int
    let record: ServerRecord
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, record: ServerRecord, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.record = record
        self.group = group
        self.task = task
    }

    func url(_ path: String, host: String = "127.0.0.1") -> URL {
        URL(string: "http://\(host):\(port)\(path)")!
    }

    static func start() async throws -> TestHTTPServer {
        let record = ServerRecord()
        let router = Router(context: TestRequestContext.self)
        router.middlewares.add(ConnectionRecorder(record: record))
        addRoutes(to: router, record: record)
        let logger = Logger(label: "test-server", factory: { _ in SwiftLogNoOpLogHandler() })
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task { try await group.run() }
        var port = 0
        for await bound in ports { port = bound }
        return TestHTTPServer(port: port, record: record, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// Runs `body` with a started server and stops the server afterwards.
func withTestServer<T>(_ body: (TestHTTPServer) async throws -> T) async throws -> T {
    let server = try await TestHTTPServer.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

struct TestRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's port: one per TCP connection from the same host.
    let remotePort: Int

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remotePort = source.channel.remoteAddress?.port ?? -1
    }
}

/// What the server saw, for assertions.
final class ServerRecord: @unchecked Sendable {
    private let lock = NSLock()
    private var ports: Set<Int> = []
    private var inFlight = 0
    private var peak = 0
    private var hits: [String: [(instant: ContinuousClock.Instant, date: Date)]] = [:]
    private var blobs: [Int: Data] = [:]

    func sawConnection(from port: Int) { lock.withLock { _ = ports.insert(port) } }
    /// Distinct client connections seen so far.
    var connectionCount: Int { lock.withLock { ports.count } }

    func enter() { lock.withLock { inFlight += 1; peak = max(peak, inFlight) } }
    func leave() { lock.withLock { inFlight -= 1 } }
    /// The most requests in progress at once.
    var peakInFlight: Int { lock.withLock { peak } }

    /// Records a hit on `key`; returns how many there were before this one.
    func hit(_ key: String) -> Int {
        lock.withLock {
            hits[key, default: []].append((.now, Date()))
            return hits[key]!.count - 1
        }
    }

    func hitTimes(_ key: String) -> [ContinuousClock.Instant] { lock.withLock { (hits[key] ?? []).map(\.instant) } }
    /// Wall-clock times of the hits, for comparing with HTTP dates.
    func hitDates(_ key: String) -> [Date] { lock.withLock { (hits[key] ?? []).map(\.date) } }

    func blob(size: Int) -> Data {
        lock.withLock {
            if let blob = blobs[size] { return blob }
            let blob = TestData.bytes(count: size)
            blobs[size] = blob
            return blob
        }
    }
}

private struct ConnectionRecorder: RouterMiddleware {
    typealias Context = TestRequestContext
    let record: ServerRecord

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        record.sawConnection(from: context.remotePort)
        return try await next(request, context)
    }
}

private struct DropConnection: Error {}

private func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try JSONEncoder().encode(value)
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

private func text(_ string: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "text/plain"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: string)))
}

private func query(_ request: Request, _ name: String) -> String? {
    request.uri.queryParameters.get(name)
}

private func addRoutes(to router: Router<TestRequestContext>, record: ServerRecord) {
    for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .options] {
        router.on("/echo", method: method) { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: 64 << 20)
            let data = Data(buffer.readableBytesView)
            let headers = request.headers.map { [$0.name.canonicalName, $0.value] }
            return try json(EchoReply(method: request.method.rawValue, headers: headers, length: data.count,
                                      sha256: TestData.sha256(data), body: String(decoding: data.prefix(4096), as: UTF8.self)))
        }
        router.on("/upload", method: method) { request, _ in
            var hasher = SHA256()
            var length = 0
            for try await buffer in request.body {
                buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                length += buffer.readableBytes
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            return try json(UploadReply(method: request.method.rawValue, length: length, sha256: digest,
                                        contentLength: request.headers[.contentLength],
                                        transferEncoding: request.headers[.transferEncoding]))
        }
    }

    router.post("/multipart") { request, _ in
        var request = request
        let contentType = request.headers[.contentType] ?? ""
        guard let boundary = contentType.components(separatedBy: "boundary=").last, contentType.contains("boundary=") else {
            return try json(MultipartReply(parts: []), status: .badRequest)
        }
        let body = Data(try await request.collectBody(upTo: 256 << 20).readableBytesView)
        return try json(MultipartReply(contentLength: request.headers[.contentLength],
                                       transferEncoding: request.headers[.transferEncoding],
                                       parts: parseMultipart(body, boundary: boundary)))
    }

    router.get("/blob/:size") { request, context in
        let size = Int(context.parameters.get("size") ?? "") ?? 0
        let blob = record.blob(size: size)
        var start = 0
        var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: "bytes"]
        var status = HTTPResponse.Status.ok
        if query(request, "norange") == nil, let range = request.headers[.range], range.hasPrefix("bytes="),
           let first = Int(range.dropFirst("bytes=".count).prefix { $0 != "-" }) {
            guard first < size else {
                headers[.contentRange] = "bytes */\(size)"
                return text("range not satisfiable", status: .rangeNotSatisfiable, headers: headers)
            }
            start = first
            status = .partialContent
            headers[.contentRange] = "bytes \(first)-\(size - 1)/\(size)"
        }
        let cut = start == 0 ? query(request, "cut").flatMap { Int($0) } : nil
        headers[.contentLength] = String(size - start)
        let first = start
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: size - start) { writer in
            let end = min(size, cut ?? size)
            var offset = first
            while offset < end {
                let count = min(256 << 10, end - offset)
                try await writer.write(ByteBuffer(bytes: blob[offset..<(offset + count)]))
                offset += count
            }
            if end < size { throw DropConnection() }
            try await writer.finish(nil)
        })
    }

    router.get("/stream") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody { writer in
            let chunk = ByteBuffer(repeating: 0x61, count: 16 << 10)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                try await writer.write(chunk)
                try await Task.sleep(for: .milliseconds(20))
            }
            try await writer.finish(nil)
        })
    }

    router.get("/stall") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody { writer in
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                try await writer.write(ByteBuffer(string: "x"))
                try await Task.sleep(for: .milliseconds(250))
            }
            try await writer.finish(nil)
        })
    }

    router.get("/trickle") { request, _ in
        _ = record.hit(query(request, "key") ?? "trickle")
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody { writer in
            // One byte a second, for a minute at most: a peer that never quite stops.
            for _ in 0..<60 {
                try await writer.write(ByteBuffer(string: "x"))
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        })
    }

    router.get("/overlong") { request, _ in
        // Announces `declare` bytes and sends `send`: more than it said.
        let declared = query(request, "declare").flatMap { Int($0) } ?? 1000
        let sent = query(request, "send").flatMap { Int($0) } ?? 5000
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        headers[.contentLength] = String(declared)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await writer.write(ByteBuffer(repeating: 0x6F, count: sent))
            try await writer.finish(nil)
        })
    }

    router.get("/hostile") { request, _ in
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if query(request, "declare") != nil { headers[.contentLength] = String(1 << 40) }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let chunk = ByteBuffer(repeating: 0x62, count: 64 << 10)
            for _ in 0..<(16 << 10) { try await writer.write(chunk) }
            try await writer.finish(nil)
        })
    }

    router.get("/redirect") { request, _ in
        Response(status: .found, headers: [.location: query(request, "to") ?? "/"])
    }

    @Sendable func retryAfter(_ request: Request, _ context: TestRequestContext) -> Response {
        let key = query(request, "key") ?? "default"
        let times = query(request, "times").flatMap { Int($0) } ?? 1
        let status = query(request, "status").flatMap { Int($0) } ?? 503
        guard record.hit(key) < times else { return text("ok") }
        var headers: HTTPFields = [:]
        if let value = query(request, "value") { headers[.retryAfter] = value }
        return text("try later", status: .init(code: status), headers: headers)
    }
    // POST too, so that a test can tell "not retried" from "not retryable".
    router.get("/retry-after", use: retryAfter)
    router.post("/retry-after", use: retryAfter)

    router.get("/status/:code") { _, context in
        let code = Int(context.parameters.get("code") ?? "") ?? 500
        return text("status \(code)", status: .init(code: code))
    }

    router.get("/slow") { request, _ in
        record.enter()
        defer { record.leave() }
        try await Task.sleep(for: .milliseconds(query(request, "ms").flatMap { Int($0) } ?? 200))
        return text("slow")
    }
}

/// Splits a `multipart/form-data` body into its parts, in order.
private func parseMultipart(_ body: Data, boundary: String) -> [MultipartReply.Part] {
    let delimiter = Data("\r\n--\(boundary)".utf8)
    var parts: [MultipartReply.Part] = []
    let first = Data("--\(boundary)".utf8)
    guard var cursor = body.range(of: first)?.upperBound else { return [] }
    while cursor + 2 <= body.endIndex, body[cursor..<(cursor + 2)] != Data("--".utf8) {
        cursor += 2
        guard let next = body.range(of: delimiter, in: cursor..<body.endIndex),
              let headerEnd = body.range(of: Data("\r\n\r\n".utf8), in: cursor..<next.lowerBound) else { break }
        let headerText = String(decoding: body[cursor..<headerEnd.lowerBound], as: UTF8.self)
        let content = body[headerEnd.upperBound..<next.lowerBound]
        var name = ""
        var filename: String?
        var contentType: String?
        for line in headerText.components(separatedBy: "\r\n") {
            let lower = line.lowercased()
            if lower.hasPrefix("content-disposition:") {
                name = attribute("name", in: line) ?? ""
                filename = attribute("filename", in: line)
            } else if lower.hasPrefix("content-type:") {
                contentType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        parts.append(MultipartReply.Part(name: name, filename: filename, contentType: contentType, length: content.count,
                                         sha256: TestData.sha256(Data(content)),
                                         value: filename == nil ? String(decoding: content, as: UTF8.self) : nil))
        cursor = next.upperBound
    }
    return parts
}

private func attribute(_ key: String, in line: String) -> String? {
    guard let range = line.range(of: " \(key)=\"") ?? line.range(of: ";\(key)=\"") else { return nil }
    let rest = line[range.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
}
