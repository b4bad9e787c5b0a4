import Crypto
import Foundation
import PixieBrix
import Synchronization
import Testing
import TestSupport
import Transfer

@testable import AssetSync

/// A push hashes each file as its bytes are sent: no pass of its own before the upload, and the file's status
/// before and after the upload says whether what was sent is the file as it stood.
@Suite("hashing an upload as it is sent", .serialized)
struct UploadDigestTests {
    @Test("a push reads each byte of its file once, and records the MD5 of what it sent")
    func pushReadsEachByteOnce() async throws {
        // `assets serve` runs as its own process, so that this process's read count is the client's alone.
        try CLI.requireBinary()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try ServeProcess(dataDirectory: scratch.path("server"), logPath: scratch.path("serve.log"))
        defer { server.stop() }
        let url = try #require(URL(string: try await server.waitForURL()))
        try await withTransferEngine { engine in
            let client = try PixieBrixClient(baseURL: url, token: APIToken(server.token), engine: engine)
            let database = try await client.createDatabase(name: "read-once").id
            let source = try scratch.folder("source")
            let size = 32 << 20
            let data = pseudoRandomBytes(size, seed: 12)
            try write(data, to: source + "/big.bin")
            let store = try StateStore.open(path: scratch.path("state.sqlite"))

            let before = try bytesReadByThisProcess()
            let summary = try await Pusher(folder: source, database: database, client: client, store: store).push()
            let read = try bytesReadByThisProcess() - before

            #expect(summary.done == 1 && summary.failed == 0)
            #expect(read >= size, "the read counter saw \(read) bytes, less than the file it sent")
            // Hashing in a pass of its own before the upload reads the file twice.
            #expect(read < size + size / 4, "the push read \(read) bytes to send a file of \(size)")
            let entry = try #require(try store.manifest()["big.bin"])
            #expect(entry.md5 == Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined())
            #expect(entry.size == Int64(size))
        }
    }

    @Test("a file written to during its upload is sent again: storage ends with the file's final bytes")
    func fileWrittenDuringUpload() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            let path = source + "/growing.bin"
            let original = pseudoRandomBytes(3 << 20, seed: 5)
            try write(original, to: path)
            // Once the first 256 KiB are sent, overwrite the file's first bytes: the bytes sent so far are the old
            // ones, so the MD5 of what was sent still equals storage's ETag. Only the file's status tells.
            let writer = WriteOnceDuringUpload(path: path, after: 256 << 10, bytes: Data(repeating: 0x58, count: 4096))
            var options = PushOptions()
            options.bandwidthLimit = 1 << 20
            let store = try fixture.store()
            let pusher = Pusher(folder: source, database: fixture.database, client: fixture.client, store: store,
                                options: options, reporter: writer)
            let summary = try await pusher.push()

            #expect(writer.wrote, "the file was not written to during its upload")
            #expect(summary.done == 1 && summary.failed == 0)
            var final = original
            final.replaceSubrange(0..<4096, with: Data(repeating: 0x58, count: 4096))
            let asset = try #require(try await fixture.uploadedAssets()["growing.bin"]?.first)
            let location = try await fixture.client.downloadLocation(database: fixture.database, id: asset.id)
            let downloaded = fixture.scratch.path("downloaded.bin")
            _ = try await fixture.client.download(from: location, to: downloaded, resume: false)
            #expect(try Data(contentsOf: URL(fileURLWithPath: downloaded)) == final)
            let orphans = try store.orphans()
            #expect(orphans.count == 1 && orphans.first?.reason.contains("changed during its upload") == true,
                    "\(orphans.map(\.reason))")
        }
    }
}

/// Overwrites the start of a file once, as soon as an upload of it has sent `after` bytes.
private final class WriteOnceDuringUpload: SyncReporter {
    let path: String
    let after: Int64
    let bytes: Data
    private let done = Mutex(false)

    init(path: String, after: Int64, bytes: Data) {
        self.path = path
        self.after = after
        self.bytes = bytes
    }

    var wrote: Bool { done.withLock { $0 } }

    func report(_ event: SyncEvent) {
        guard case .progress(_, let sent, _) = event, sent >= after else { return }
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        _ = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }
}

/// `rchar` of /proc/self/io: the bytes this process has read through read(2)-family calls, files and sockets.
private func bytesReadByThisProcess() throws -> Int {
    let io = try String(contentsOfFile: "/proc/self/io", encoding: .utf8)
    guard let line = io.split(separator: "\n").first(where: { $0.hasPrefix("rchar:") }),
          let count = Int(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces))
    else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: "/proc/self/io"]) }
    return count
}
