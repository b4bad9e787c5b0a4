import Foundation
import Testing
@testable import Transfer

/// Records what a ``ResponseBodyObserver`` is shown, and compares it with the file afterwards.
private final class RecordingObserver: ResponseBodyObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var begins: [Int64] = []
    private var bytes = Data()

    func beginFile(at offset: Int64) { lock.withLock { begins.append(offset) } }
    func wroteToFile(_ chunk: UnsafeRawBufferPointer) { lock.withLock { bytes.append(contentsOf: chunk) } }

    var offsets: [Int64] { lock.withLock { begins } }
    var observed: Data { lock.withLock { bytes } }
}

@Suite("The body observer sees a file download's bytes as they are written")
struct BodyObserverTests {
    @Test("every byte written to the file is shown once, in order")
    func seesEachByteOnce() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 3 << 20 + 17
                let path = directory.appendingPathComponent("out.bin").path
                let observer = RecordingObserver()
                var request = HTTPRequest(url: server.url("/blob/\(size)"), destination: .file(path: path, resume: false))
                request.bodyObserver = observer
                let response = try await withTransferEngine(configuration: testConfiguration()) { try await $0.perform(request) }
                #expect(response.status == 200)
                #expect(observer.offsets == [0])
                #expect(observer.observed == TestData.bytes(count: size))
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == observer.observed)
            }
        }
    }

    @Test("a resumed download starts the observer at the kept prefix; a retry continues where the stream stopped")
    func resumeAndRetry() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let size = 5 << 20
                let blob = TestData.bytes(count: size)
                let path = directory.appendingPathComponent("part.bin").path
                let kept = 1 << 20 + 5
                try blob.prefix(kept).write(to: URL(fileURLWithPath: path))
                let observer = RecordingObserver()
                var request = HTTPRequest(url: server.url("/blob/\(size)"), destination: .file(path: path, resume: true))
                request.bodyObserver = observer
                let response = try await withTransferEngine(configuration: testConfiguration()) { try await $0.perform(request) }
                #expect(response.status == 206)
                #expect(observer.offsets == [Int64(kept)])
                #expect(observer.observed == blob.suffix(from: kept))

                // The first attempt is cut after 2 MiB; the retry appends, and the observer sees the rest.
                try FileManager.default.removeItem(atPath: path)
                let retried = RecordingObserver()
                var cut = HTTPRequest(url: server.url("/blob/\(size)?cut=\(2 << 20)"), destination: .file(path: path, resume: false))
                cut.bodyObserver = retried
                let second = try await withTransferEngine(configuration: testConfiguration()) { try await $0.perform(cut) }
                #expect(second.attempts == 2)
                #expect(retried.offsets.count == 2)
                #expect(retried.offsets.first == 0)
                #expect(retried.offsets.last.map { $0 > 0 && $0 < Int64(size) } == true)
                #expect(retried.observed == blob)
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == blob)
            }
        }
    }

    @Test("an error page is not shown to the observer")
    func errorBodyIsNotObserved() async throws {
        try await withTestServer { server in
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("out.bin").path
                let observer = RecordingObserver()
                var request = HTTPRequest(url: server.url("/status/404"), destination: .file(path: path, resume: false),
                                          retry: .none)
                request.bodyObserver = observer
                let response = try await withTransferEngine(configuration: testConfiguration()) { try await $0.perform(request) }
                #expect(response.status == 404)
                #expect(observer.offsets.isEmpty)
                #expect(observer.observed.isEmpty)
            }
        }
    }
}
