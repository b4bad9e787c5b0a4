import Foundation
import Testing
@testable import Transfer

/// Larger than the default in-memory cap, so that only streaming can move it.
let largeSize = ResponseDestination.defaultMemoryLimit + (3 << 20) + 123

@Suite("Streaming uploads and downloads")
struct StreamingTests {
    @Test("a file upload streams byte-exact with a Content-Length", arguments: [HTTPMethod.put, .post])
    func uploadFile(method: HTTPMethod) async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let data = TestData.bytes(count: largeSize, seed: 7)
                let path = directory.appendingPathComponent("upload.bin").path
                try data.write(to: URL(fileURLWithPath: path))
                let reports = Collector<TransferProgress>()
                let response = try await withTransferEngine(configuration: testConfiguration()) { engine in
                    try await engine.perform(HTTPRequest(method: method, url: server.url("/upload"), body: .file(path: path),
                                                         progress: { reports.append($0) }))
                }
                let reply = try decode(UploadReply.self, response)
                #expect(reply.method == method.rawValue)
                #expect(reply.length == data.count)
                #expect(reply.sha256 == TestData.sha256(data))
                #expect(reply.contentLength == String(data.count))
                #expect(reply.transferEncoding == nil)
                #expect(reports.values.last?.uploaded == Int64(data.count))
            }
        }
    }

    @Test("a missing upload file fails as local file I/O before anything is sent")
    func uploadMissingFile() async throws {
        try await withTransferEngine(configuration: testConfiguration()) { engine in
            let error = await transferError {
                _ = try await engine.perform(HTTPRequest(method: .put, url: URL(string: "http://127.0.0.1:1/upload")!,
                                                         body: .file(path: "/nonexistent/file.bin")))
            }
            #expect(error?.kind == .fileIO)
        }
    }

    @Test("a destination that cannot be written fails as local file I/O")
    func unwritableDestination() async throws {
        try await withTestServer { server in
            try await withTransferEngine(configuration: testConfiguration()) { engine in
                let error = await transferError {
                    _ = try await engine.perform(HTTPRequest(url: server.url("/blob/1000"),
                                                             destination: .file(path: "/nonexistent/dir/out.bin", resume: false)))
                }
                #expect(error?.kind == .fileIO)
                #expect(error?.message.contains("/nonexistent/dir/out.bin") == true)
            }
        }
    }

    @Test("a multipart form sends its fields in order, the file last, streamed, with a Content-Length")
    func multipart() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let data = TestData.bytes(count: 3 << 20, seed: 11)
                let path = directory.appendingPathComponent("photo.bin").path
                try data.write(to: URL(fileURLWithPath: path))
                let fields = ["key", "Content-Type", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"]
                    .enumerated().map { MultipartForm.Field(name: $0.element, value: "value \($0.offset)") }
                let form = MultipartForm(fields: fields, file: .init(filename: "images/photo 1.png", path: path,
                                                                     contentType: "image/png"))
                let response = try await withTransferEngine(configuration: testConfiguration()) { engine in
                    try await engine.perform(HTTPRequest(method: .post, url: server.url("/multipart"), body: .multipart(form)))
                }
                #expect(response.status == 200)
                let reply = try decode(MultipartReply.self, response)
                #expect(reply.parts.map(\.name) == fields.map(\.name) + ["file"])
                #expect(reply.parts.dropLast().map(\.value) == fields.map(\.value))
                let file = try #require(reply.parts.last)
                #expect(file.filename == "images/photo 1.png")
                #expect(file.contentType == "image/png")
                #expect(file.length == data.count)
                #expect(file.sha256 == TestData.sha256(data))
                #expect(reply.contentLength != nil)
                #expect(reply.transferEncoding == nil)
            }
        }
    }

    @Test("a download larger than the memory cap streams to a file byte-exact")
    func downloadToFile() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("download.bin").path
                let response = try await withTransferEngine(configuration: testConfiguration()) { engine in
                    try await engine.perform(HTTPRequest(url: server.url("/blob/\(largeSize)"),
                                                         destination: .file(path: path, resume: false)))
                }
                #expect(response.status == 200)
                #expect(response.body.isEmpty)
                #expect(response.bytesReceived == Int64(largeSize))
                #expect(try TestData.sha256(file: path) == TestData.sha256(TestData.bytes(count: largeSize)))
            }
        }
    }

    @Test("a cut-off download resumes with Range and a 206 appends")
    func resumeAfterCutOff() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 5 << 20
                let path = directory.appendingPathComponent("partial.bin").path
                try await withTransferEngine(configuration: testConfiguration()) { engine in
                    let error = await transferError {
                        _ = try await engine.perform(HTTPRequest(url: server.url("/blob/\(size)?cut=\(2 << 20)"),
                                                                 destination: .file(path: path, resume: false), retry: .none))
                    }
                    #expect(error?.kind == .connectionLost)
                    let partial = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
                    #expect(partial > 0 && partial < size)

                    let response = try await engine.perform(HTTPRequest(url: server.url("/blob/\(size)?cut=\(2 << 20)"),
                                                                        destination: .file(path: path, resume: true)))
                    #expect(response.status == 206)
                    #expect(response.resumedFrom == Int64(partial))
                    #expect(response.bytesReceived == Int64(size - partial))
                    #expect(try TestData.sha256(file: path) == TestData.sha256(TestData.bytes(count: size)))
                }
            }
        }
    }

    @Test("a retried download continues where the failed attempt stopped")
    func retryResumes() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 3 << 20
                let (response, path) = try await download(
                    server.url("/blob/\(size)?cut=\(1 << 20)"), over: Data("stale bytes from an earlier run".utf8),
                    in: directory, resume: false, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10)))
                #expect(response.attempts == 2)
                #expect(response.status == 206)
                #expect(response.resumedFrom > 0)
                #expect(try TestData.sha256(file: path) == TestData.sha256(TestData.bytes(count: size)))
            }
        }
    }

    @Test("a 200 answer to a Range request restarts the file from zero")
    func fullAnswerRestarts() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 1 << 20
                let (response, path) = try await download(server.url("/blob/\(size)?norange=1"),
                                                          over: Data(repeating: 0xEE, count: 1000), in: directory, resume: true)
                #expect(response.status == 200)
                #expect(response.resumedFrom == 0)
                #expect(try TestData.sha256(file: path) == TestData.sha256(TestData.bytes(count: size)))
            }
        }
    }

    @Test("a 416 on a complete file is reported and leaves the file alone")
    func rangeNotSatisfiable() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 64 << 10
                let (response, path) = try await download(server.url("/blob/\(size)"), over: TestData.bytes(count: size),
                                                          in: directory, resume: true)
                #expect(response.status == 416)
                #expect(response.headers["Content-Range"] == "bytes */\(size)")
                #expect(try TestData.sha256(file: path) == TestData.sha256(TestData.bytes(count: size)))
            }
        }
    }

    @Test("an error status never clobbers the destination file")
    func errorBodyGoesToMemory() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let (response, path) = try await download(server.url("/status/500"), over: Data("precious".utf8),
                                                          in: directory, resume: false, retry: .none)
                #expect(response.status == 500)
                #expect(String(decoding: response.body, as: UTF8.self) == "status 500")
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("precious".utf8))
            }
        }
    }

    /// Puts `existing` bytes in a new file, then downloads `url` into that file with a new engine.
    private func download(_ url: URL, over existing: Data, in directory: URL, resume: Bool,
                          retry: RetryPolicy = .automatic) async throws -> (HTTPResponse, path: String) {
        let path = directory.appendingPathComponent(UUID().uuidString).path
        try existing.write(to: URL(fileURLWithPath: path))
        let response = try await withTransferEngine(configuration: testConfiguration()) { engine in
            try await engine.perform(HTTPRequest(url: url, destination: .file(path: path, resume: resume), retry: retry))
        }
        return (response, path)
    }
}
