import Foundation
import TestSupport
import Testing

@testable import AssetServer

#if canImport(Glibc)
import Glibc
#endif

/// `assets serve` survives any single request: a 4xx with DRF-shaped JSON, never a trap (issue 10).
/// Each test checks afterwards that the same server still answers.
@Suite("Hostile requests")
struct HostileRequestTests {
    /// The server is alive: a fresh connection lists databases.
    func expectAlive(_ h: Harness, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await TestClientBox.with(h) { fresh in
            let reply = try await fresh.get("/api/databases/")
            #expect(reply.status == 200, sourceLocation: sourceLocation)
        }
    }

    @Test("page=2^63-1 is past the end: 404 Invalid page.")
    func pageMaxInt() async throws {
        try await withHarness { h in
            _ = try await h.createDatabase()
            let reply = try await h.get("/api/databases/?page=9223372036854775807")
            #expect(reply.status == 404)
            #expect(reply.detail == "Invalid page.")
            let huge = try await h.get("/api/databases/?page=9223372036854775807&page_size=9223372036854775807")
            #expect(huge.status == 404)
            try await expectAlive(h)
        }
    }

    @Test("page=-1 is refused: 404 Invalid page.")
    func pageNegative() async throws {
        try await withHarness { h in
            let reply = try await h.get("/api/databases/?page=-1")
            #expect(reply.status == 404)
            #expect(reply.detail == "Invalid page.")
            try await expectAlive(h)
        }
    }

    @Test("page_size=2^63-1 is clamped to the maximum page")
    func pageSizeMaxInt() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let reply = try await h.get("/api/databases/\(db)/assets/?page_size=9223372036854775807&page=2")
            // One page holds everything at the clamped size: page 2 is past the end, not an overflow.
            #expect(reply.status == 404)
            let first = try await h.get("/api/databases/\(db)/assets/?page_size=9223372036854775807")
            #expect(first.status == 200)
            try await expectAlive(h)
        }
    }

    @Test("a 20-digit Content-Length is refused with a 4xx and the server keeps serving")
    func twentyDigitContentLength() async throws {
        try await withHarness { h in
            let request = "POST /api/databases/ HTTP/1.1\r\nHost: \(h.authority)\r\nAuthorization: Token \(h.server.token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}"
            let answer = try RawConnection(port: h.port).exchange(Array(request.utf8))
            let status = RawConnection.status(answer)
            #expect(status == nil || (400..<500).contains(status!), "\(String(decoding: answer, as: UTF8.self))")
            let upload = "POST /_storage/upload/ HTTP/1.1\r\nHost: \(h.authority)\r\n"
                + "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 18446744073709551616\r\n\r\n--x"
            let uploadAnswer = try RawConnection(port: h.port).exchange(Array(upload.utf8))
            let uploadStatus = RawConnection.status(uploadAnswer)
            #expect(uploadStatus == nil || (400..<500).contains(uploadStatus!))
            try await expectAlive(h)
        }
    }

    @Test("a 2 MiB JSON name is refused with 413 and DRF's detail")
    func twoMebibyteName() async throws {
        try await withHarness { h in
            let name = String(repeating: "n", count: 2 << 20)
            let reply = try await h.post("/api/databases/", #"{"name": "\#(name)", "type": "Asset"}"#)
            #expect(reply.status == 413)
            #expect(reply.detail == "Request body is too large.")
            try await expectAlive(h)
        }
    }

    @Test("a clock advance of 1e300 (or 1e400, or -1e300) is a 400 on the field; the clock is unchanged")
    func clockAdvanceHuge() async throws {
        try await withHarness { h in
            let before = try await h.admin("clock", #"{"advance": 0}"#)
            #expect(before.status == 200)
            for value in ["1e300", "1e400", "-1e300", "4000000000"] {
                let reply = try await h.admin("clock", #"{"advance": \#(value)}"#)
                #expect(reply.status == 400, "\(value)")
                #expect((reply.object["advance"] as? [String])?.first?.contains("100 years") == true)
            }
            let after = try await h.admin("clock", #"{"advance": 0}"#)
            // Still this century: the refused advances moved nothing.
            let now = try #require(after.object["now"] as? String)
            #expect(now.hasPrefix(String((before.object["now"] as? String ?? "").prefix(4))))
            let ok = try await h.admin("clock", #"{"advance": 86400}"#)
            #expect(ok.status == 200)
            try await expectAlive(h)
        }
    }

    @Test(
        "Range values beyond Int64 give the whole object or a 416, never a trap",
        .disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's"))
    func hugeRanges() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let id = try await h.uploadedAsset(db, bytes: Array("hello".utf8))
            let redirect = try await h.get("/api/databases/\(db)/assets/\(id)/")
            let location = try #require(redirect["Location"])
            for range in ["bytes=9223372036854775807-", "bytes=-9223372036854775808", "bytes=0-99999999999999999999",
                          "bytes=-99999999999999999999", "bytes=9223372036854775806-9223372036854775807"] {
                let reply = try await h.send(.get, h.pathAndQuery(location), auth: .none, accept: nil,
                                             headers: ["Range": range])
                #expect([200, 206, 416].contains(reply.status), "\(range): \(reply.status)")
            }
            try await expectAlive(h)
        }
    }

    @Test(
        "Host: evil.example does not reach the links in the answer",
        .disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's"))
    func hostHeaderIgnoredForLinks() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let id = try await h.uploadedAsset(db, bytes: Array("hello".utf8))
            _ = try await h.createDatabase("second")
            func evil(_ method: String, _ path: String, body: String? = nil) throws -> String {
                var request = "\(method) \(path) HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Token \(h.server.token)\r\n"
                    + "Accept: application/json; version=2.0\r\nConnection: close\r\n"
                if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
                request += "\r\n" + (body ?? "")
                // Lower-cased: header names may go out in either case.
                return String(decoding: try RawConnection(port: h.port).exchange(Array(request.utf8)), as: UTF8.self)
                    .lowercased()
            }
            let answers = [
                try evil("GET", "/api/databases/?page_size=1"),  // Link header
                try evil("GET", "/api/databases/\(db)/assets/"),  // download_url
                try evil("GET", "/api/databases/\(db)/assets/\(id)/"),  // 302 to a presigned URL
                try evil("POST", "/api/databases/\(db)/assets/", body: #"{"filename": "b.txt"}"#),  // upload_url
            ]
            let base = h.base.lowercased()
            #expect(answers[0].contains("link: <\(base)/api/databases/"))
            #expect(answers[1].contains("\(base)/api/databases/\(db.lowercased())/assets/\(id.lowercased())/"))
            #expect(answers[2].hasPrefix("http/1.1 302") && answers[2].contains("location: \(base)/_storage/"))
            #expect(answers[3].hasPrefix("http/1.1 201") && answers[3].contains("\(base)/_storage/upload/"))
            for answer in answers { #expect(!answer.contains("evil.example")) }
        }
    }

    @Test(
        "--public-url sets the links instead of the listening address",
        .disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's"))
    func publicURL() async throws {
        try await withHarness(configure: { $0.publicURL = "https://assets.example.org/" }) { h in
            let db = try await h.createDatabase()
            let id = try await h.uploadedAsset(db, bytes: Array("hi".utf8))
            let download = try await h.get("/api/databases/\(db)/assets/\(id)/")
            #expect(download["Location"]?.hasPrefix("https://assets.example.org/_storage/") == true)
            #expect(h.server.linkBase == "https://assets.example.org")
        }
    }

    @Test("an XLSX export past the operator's limit fails with a clear message; the server keeps serving")
    func xlsxPastLimit() async throws {
        try await withHarness(configure: { $0.limits.maxXLSXBytes = 4096 }) { h in
            let db = try await h.createDatabase("kv", type: "Key-Value")
            let records = (0..<200).map { #"{"id": "r\#($0)", "data": {"text": "\#(String(repeating: "x", count: 50))"}}"# }
            let seeded = try await h.admin("records", #"{"database": "\#(db)", "records": [\#(records.joined(separator: ","))]}"#)
            #expect(seeded.status == 201)
            let created = try await h.send(
                .post, "/api/databases/records/jobs/",
                json: #"{"name": "big", "databases": ["\#(db)"], "media_type": "application/xlsx"}"#,
                accept: "application/json; version=1.0")
            #expect(created.status == 201)
            let id = try #require(created.object["id"] as? String)
            var job: [String: Any] = [:]
            for _ in 0..<500 {
                job = try await h.get("/api/databases/records/jobs/\(id)/", accept: "application/json; version=1.0").object
                if let status = job["status"] as? String, status == "SUCCESS" || status == "FAILURE" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(job["status"] as? String == "FAILURE")
            let message = job["error_message"] as? String ?? ""
            #expect(message.contains(".xlsx") && message.contains("4096"))
            // The same export as CSV has no such limit.
            let csv = try await h.send(
                .post, "/api/databases/records/jobs/",
                json: #"{"name": "big", "databases": ["\#(db)"], "media_type": "text/csv"}"#,
                accept: "application/json; version=1.0")
            #expect(csv.status == 201)
            try await expectAlive(h)
        }
    }

    @Test("connections past the cap get a 503 with Retry-After; the server serves again once they close")
    func connectionCap() async throws {
        try await withHarness(configure: { $0.limits.maxConnections = 3 }) { h in
            // The harness holds one connection (opened by this request); two idle ones fill the cap.
            #expect(try await h.get("/api/databases/").status == 200)
            let idle = try [RawConnection(port: h.port), RawConnection(port: h.port)]
            let request = "GET /api/databases/ HTTP/1.1\r\nHost: \(h.authority)\r\nAuthorization: Token \(h.server.token)\r\n"
                + "Connection: close\r\n\r\n"
            // The server counts a connection when its event loop activates it, which may come after a later
            // connection's on another loop: a connection past the cap is refused once the idle two are counted.
            var refused: [UInt8] = []
            for _ in 0..<50 {
                refused = try RawConnection(port: h.port).exchange(Array(request.utf8))
                if RawConnection.status(refused) == 503 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(RawConnection.status(refused) == 503)
            #expect(String(decoding: refused, as: UTF8.self).lowercased().contains("retry-after: 1"))
            for connection in idle { connection.close() }
            var status: Int?
            for _ in 0..<100 where status != 200 {
                status = RawConnection.status(try RawConnection(port: h.port).exchange(Array(request.utf8)))
                if status != 200 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(status == 200)
        }
    }

    @Test("a request body trickling below the minimum pace is refused with 408")
    func slowBody() async throws {
        try await withHarness(configure: {
            $0.limits.minBodyBytes = 1024
            $0.limits.bodyWindow = .milliseconds(500)
        }) { h in
            let head = "POST /api/databases/ HTTP/1.1\r\nHost: \(h.authority)\r\nAuthorization: Token \(h.server.token)\r\n"
                + "Accept: application/json; version=2.0\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
            let connection = try RawConnection(port: h.port)
            connection.send(Array(head.utf8))
            var answer: [UInt8] = []
            for _ in 0..<40 where answer.isEmpty {
                connection.send(Array(" ".utf8))
                try await Task.sleep(for: .milliseconds(100))
                answer = connection.readAvailable()
            }
            #expect(RawConnection.status(answer) == 408, "\(String(decoding: answer, as: UTF8.self))")
            connection.close()
            try await expectAlive(h)
        }
    }

    @Test("CSV record lists defuse formula cells and keep numbers")
    func csvFormulaCells() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase("kv", type: "Key-Value")
            let seeded = try await h.admin(
                "records",
                #"{"database": "\#(db)", "records": [{"id": "a", "data": {"f": "=HYPERLINK(\"http://x\")", "n": -5, "s": "-2+3", "@h": "@SUM(A1)", "t": "\tx"}, "created_at": "2024-01-01T00:00:00Z"}]}"#)
            #expect(seeded.status == 201)
            let reply = try await h.get("/api/databases/\(db)/records/", accept: "text/csv; version=2.0")
            #expect(reply.status == 200)
            #expect(reply.text == "id,created_at,f,n,s,'@h,t\r\na,2024-01-01T00:00:00Z,\"'=HYPERLINK(\"\"http://x\"\")\",-5,'-2+3,'@SUM(A1),'\tx\r\n")
        }
    }
}

/// A blocking loopback TCP connection for requests no HTTP client would send.
final class RawConnection: @unchecked Sendable {
    // @unchecked: used by one test task at a time.
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(descriptor) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends `bytes` and reads until the server closes or 10 s pass without a byte.
    func exchange(_ bytes: [UInt8]) throws -> [UInt8] {
        send(bytes)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[0..<count]
            if let text = String(bytes: answer, encoding: .utf8), Self.isComplete(text) { break }
        }
        return answer
    }

    /// What has arrived so far, without waiting.
    func readAvailable() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return count > 0 ? Array(buffer[0..<count]) : []
    }

    func close() { shutdown(descriptor, Int32(SHUT_RDWR)) }

    /// A response whose headers ended and whose `Content-Length` body is in.
    static func isComplete(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text[end.upperBound...].utf8.count >= length
    }

    /// The status code of an HTTP/1.1 answer, nil when the server closed without one.
    static func status(_ answer: [UInt8]) -> Int? {
        let text = String(decoding: answer.prefix(64), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}
