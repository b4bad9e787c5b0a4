import Crypto
import Foundation
import Synchronization
import Testing
@testable import Transfer

/// Collects what an upload's observer saw, as (offset, bytes) reads.
private final class SeenReads: RequestBodyObserver {
    private let reads = Mutex<[(offset: Int64, bytes: Data)]>([])
    func read(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        let copy = Data(bytes)
        reads.withLock { $0.append((offset, copy)) }
    }
    /// The bytes of the last pass from offset 0, in order; nil if a read skipped or overlapped.
    var lastPass: Data? {
        reads.withLock { reads in
            guard let start = reads.lastIndex(where: { $0.offset == 0 }) else { return nil }
            var data = Data()
            for read in reads[start...] {
                guard read.offset == Int64(data.count) else { return nil }
                data.append(read.bytes)
            }
            return data
        }
    }
}

@Suite("Uploads read through an open descriptor")
struct UploadFileTests {
    @Test("the file part is read through the descriptor the caller opened, not its path, which was replaced meanwhile")
    func readsTheOpenedFileNotThePath() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("photo.bin").path
                let original = TestData.bytes(count: 2 << 20, seed: 5)
                try original.write(to: URL(fileURLWithPath: path))
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                try #require(descriptor >= 0)
                let file = try UploadFile(duplicating: descriptor, name: "photo.bin")
                close(descriptor)
                // The path now names other bytes (a swap after the caller's checks): they must not be sent.
                let planted = directory.appendingPathComponent("planted.bin").path
                try TestData.bytes(count: 2 << 20, seed: 6).write(to: URL(fileURLWithPath: planted))
                try #require(rename(planted, path) == 0)

                let form = MultipartForm(fields: [.init(name: "key", value: "k")],
                                         file: .init(filename: "photo.bin", source: .file(file)))
                let response = try await withTransferEngine(configuration: testConfiguration()) { engine in
                    try await engine.perform(HTTPRequest(method: .post, url: server.url("/multipart"), body: .multipart(form)))
                }
                #expect(response.status == 200)
                let part = try #require(try decode(MultipartReply.self, response).parts.last)
                #expect(part.length == original.count)
                #expect(part.sha256 == TestData.sha256(original))
            }
        }
    }

    @Test("the observer sees every byte sent, in order, so an upload can be hashed on the way out")
    func observerSeesTheBytesSent() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("big.bin").path
                let data = TestData.bytes(count: 5 << 20 + 123, seed: 9)
                try data.write(to: URL(fileURLWithPath: path))
                let seen = SeenReads()
                let form = MultipartForm(fields: [], file: .init(filename: "big.bin", source: .file(try UploadFile(path: path)),
                                                                 observer: seen))
                let response = try await withTransferEngine(configuration: testConfiguration()) { engine in
                    try await engine.perform(HTTPRequest(method: .post, url: server.url("/multipart"), body: .multipart(form)))
                }
                #expect(response.status == 200)
                let part = try #require(try decode(MultipartReply.self, response).parts.last)
                let observed = try #require(seen.lastPass)
                #expect(observed.count == data.count)
                #expect(TestData.sha256(observed) == part.sha256)
                #expect(part.sha256 == TestData.sha256(data))
            }
        }
    }

    @Test("a folder given as the file to upload is refused before anything is sent, naming it")
    func folderRefused() async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: TransferError.self) { try UploadFile(path: directory.path) }
            #expect(error?.kind == .fileIO)
            #expect(error?.message.contains(directory.path) == true)
            #expect(error?.message.contains("not a regular file") == true)
        }
    }
}
