import Foundation
import Testing
@testable import Transfer

#if canImport(Glibc)
import Glibc
#endif

/// Downloads into a file the caller opened: the same `Range` resume as a path, and the file never reopened by name.
@Suite("downloads into an open file")
struct OpenFileDestinationTests {
    /// Puts `existing` bytes in a new file, opens it read-write, renames it away (so that any reopening by name
    /// would miss it) and downloads `url` into the open descriptor.
    private func download(_ url: URL, over existing: Data, in directory: URL, resume: Bool,
                          retry: RetryPolicy = .automatic) async throws -> (HTTPResponse, contents: Data) {
        let path = directory.appendingPathComponent(UUID().uuidString).path
        try existing.write(to: URL(fileURLWithPath: path))
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let moved = path + ".moved"
        #expect(rename(path, moved) == 0)
        let response = try await withTransferEngine(configuration: testConfiguration()) { engine in
            try await engine.perform(HTTPRequest(url: url, destination: .openFile(descriptor: descriptor, name: "x.part",
                                                                                  resume: resume), retry: retry))
        }
        #expect(!FileManager.default.fileExists(atPath: path), "nothing was created by the old name")
        return (response, try Data(contentsOf: URL(fileURLWithPath: moved)))
    }

    @Test("a 206 appends to the bytes already in the open file")
    func partialAppends() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 1 << 20
                let full = TestData.bytes(count: size)
                let (response, contents) = try await download(server.url("/blob/\(size)"), over: full.prefix(300_000),
                                                              in: directory, resume: true)
                #expect(response.status == 206)
                #expect(response.resumedFrom == 300_000)
                #expect(response.bytesReceived == Int64(size - 300_000))
                #expect(TestData.sha256(contents) == TestData.sha256(full))
            }
        }
    }

    @Test("a 200 answer to the Range request truncates the open file and starts over")
    func fullAnswerTruncates() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 1 << 20
                let (response, contents) = try await download(server.url("/blob/\(size)?norange=1"),
                                                              over: Data(repeating: 0xEE, count: 2 << 20), in: directory,
                                                              resume: true)
                #expect(response.status == 200)
                #expect(response.resumedFrom == 0)
                #expect(contents.count == size)
                #expect(TestData.sha256(contents) == TestData.sha256(TestData.bytes(count: size)))
            }
        }
    }

    @Test("a 416 on a complete open file is reported and leaves it alone")
    func completeIs416() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 64 << 10
                let full = TestData.bytes(count: size)
                let (response, contents) = try await download(server.url("/blob/\(size)"), over: full, in: directory,
                                                              resume: true)
                #expect(response.status == 416)
                #expect(contents == full)
            }
        }
    }

    @Test("a retried download continues in the open file where the failed attempt stopped")
    func retryResumes() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 3 << 20
                let (response, contents) = try await download(
                    server.url("/blob/\(size)?cut=\(1 << 20)"), over: Data("stale bytes from an earlier run".utf8),
                    in: directory, resume: false, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10)))
                #expect(response.attempts == 2)
                #expect(response.status == 206)
                #expect(response.resumedFrom > 0)
                #expect(TestData.sha256(contents) == TestData.sha256(TestData.bytes(count: size)))
            }
        }
    }
}
