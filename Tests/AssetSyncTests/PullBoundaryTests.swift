import AssetSync
import Crypto
import Foundation
import PixieBrix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Pull never writes outside its folder: planted links are removed or refused, never followed.
@Suite("pull never writes outside its folder")
struct PullBoundaryTests {
    /// Pushes `files` (relative path → bytes) from a scratch folder so that a pull has something to fetch.
    static func publish(_ files: [String: Data], fixture: Fixture) async throws {
        let source = try fixture.scratch.folder("source-\(UUID().uuidString.prefix(8))")
        for (path, data) in files { try write(data, to: source + "/" + path) }
        let summary = try await fixture.pusher(source, store: try fixture.store("push-\(UUID().uuidString).sqlite")).push()
        #expect(summary.done == files.count)
    }

    @Test("a planted NAME.part link to an existing file outside: that file is byte-identical, the pull lands inside")
    func plantedPartLinkToExistingFile() async throws {
        try await withFixture { fixture in
            let content = pseudoRandomBytes(300_000, seed: 7)
            try await Self.publish(["notes.txt": content], fixture: fixture)
            let outside = try fixture.scratch.folder("outside")
            let precious = Data("precious bytes that must not change\n".utf8)
            try write(precious, to: outside + "/somefile")
            let target = try fixture.scratch.folder("out")
            try FileManager.default.createSymbolicLink(atPath: target + "/notes.txt.part", withDestinationPath: outside + "/somefile")

            let summary = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()

            #expect(try Data(contentsOf: URL(fileURLWithPath: outside + "/somefile")) == precious)
            #expect(summary.failed == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/notes.txt")) == content)
            #expect(isRegularFile(target + "/notes.txt"))
            #expect(!exists(target + "/notes.txt.part"))
        }
    }

    @Test("a planted dangling NAME.part link: nothing is created where it points")
    func plantedDanglingPartLink() async throws {
        try await withFixture { fixture in
            let content = Data("downloaded\n".utf8)
            try await Self.publish(["notes.txt": content], fixture: fixture)
            let outside = try fixture.scratch.folder("outside")
            let pointedAt = outside + "/created-by-pull"
            let target = try fixture.scratch.folder("out")
            try FileManager.default.createSymbolicLink(atPath: target + "/notes.txt.part", withDestinationPath: pointedAt)

            let summary = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()

            #expect(!exists(pointedAt))
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
            #expect(summary.failed == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/notes.txt")) == content)
        }
    }

    @Test("a folder link on a pulled file's path is refused: nothing lands where it points, the file fails with why")
    func folderLinkOnThePath() async throws {
        try await withFixture { fixture in
            try await Self.publish(["sub/a.txt": Data("a\n".utf8), "sub/deeper/b.txt": Data("b\n".utf8),
                                    "top.txt": Data("top\n".utf8)], fixture: fixture)
            let outside = try fixture.scratch.folder("outside")
            try write(Data("kept\n".utf8), to: outside + "/existing.txt")
            let before = try treeDigest(outside)
            let target = try fixture.scratch.folder("out")
            try FileManager.default.createSymbolicLink(atPath: target + "/sub", withDestinationPath: outside)
            let reporter = CollectingReporter()
            var puller = fixture.puller(target, store: try fixture.store("pull.sqlite"))
            puller.reporter = reporter

            let summary = try await puller.pull()

            #expect(try treeDigest(outside) == before)
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["existing.txt"])
            #expect(summary.failed == 2)
            #expect(summary.done == 1)
            #expect(try String(contentsOfFile: target + "/top.txt", encoding: .utf8) == "top\n")
            let failures = reporter.failures
            #expect(failures["sub/a.txt"]?.contains("symbolic link") == true)
            #expect(failures["sub/deeper/b.txt"]?.contains("symbolic link") == true)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/sub") == outside)
        }
    }

    @Test("a NAME.part is 0600 while it is written; the pulled file then has the mode the umask gives")
    func partModeThenUmaskMode() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let folder = try ConfinedFolder(path: scratch.path("out"), create: true)
        let part = try folder.openPart(for: "deep/er/file.bin", resume: true)
        #expect(try mode(scratch.path("out/deep/er/file.bin.part")) == 0o600)
        let bytes = Array("content".utf8)
        #expect(Glibc.write(part.descriptor, bytes, bytes.count) == bytes.count)
        try part.commit()

        #expect(try mode(scratch.path("out/deep/er/file.bin")) == 0o666 & ~processUmask())
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("out/deep/er/file.bin"))) == Data(bytes))
        #expect(!exists(scratch.path("out/deep/er/file.bin.part")))
    }

    @Test("an interrupted pull leaves its .part at 0600; the next run finishes the file with the umask mode")
    func interruptedPullPartMode() async throws {
        try await withFixture { fixture in
            let content = pseudoRandomBytes(2_000_000, seed: 11)
            try await Self.publish(["big.bin": content], fixture: fixture)
            let target = try fixture.scratch.folder("out")
            // A partial download left by an earlier run with a loose mode, as an older version wrote it.
            try write(content.prefix(500_000), to: target + "/big.bin.part")
            chmod(target + "/big.bin.part", 0o644)
            let puller = fixture.puller(target, store: try fixture.store("pull.sqlite"))
            // Reopened for resuming: tightened to 0600 before any byte is added.
            let part = try ConfinedFolder(path: target, create: false).openPart(for: "big.bin", resume: true)
            #expect(try mode(target + "/big.bin.part") == 0o600)
            #expect(part.size == 500_000)

            let summary = try await puller.pull()
            #expect(summary.failed == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/big.bin")) == content)
            #expect(try mode(target + "/big.bin") == 0o666 & ~processUmask())
        }
    }

    @Test("killed between the rename and its commit: the next run checks the file in place, no empty .part is made")
    func renamedBeforeTheCommit() async throws {
        try await withFixture { fixture in
            let content = pseudoRandomBytes(100_000, seed: 21)
            try await Self.publish(["moved.bin": content], fixture: fixture)
            let asset = try #require(try await fixture.uploadedAssets()["moved.bin"]?.first)
            let target = try fixture.scratch.folder("out")
            try write(content, to: target + "/moved.bin")
            let store = try fixture.store("pull.sqlite")
            try store.enqueuePull(path: "moved.bin", assetId: asset.id)
            var job = try #require(try store.activePullJobs()["moved.bin"])
            job.size = Int64(content.count)
            job.etag = Insecure.MD5.hash(data: content).map { String(format: "%02x", $0) }.joined()
            try store.commit(&job, state: .verifying)

            let summary = try await fixture.puller(target, store: store).pull()

            #expect(summary.done == 1)
            #expect(summary.failed == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/moved.bin")) == content)
            #expect(!exists(target + "/moved.bin.part"))
            #expect(try store.activePullJobs().isEmpty)
        }
    }

    @Test("a NAME.part hard-linked to a file elsewhere is replaced, not appended to")
    func hardLinkedPart() async throws {
        try await withFixture { fixture in
            let content = Data("the real content\n".utf8)
            try await Self.publish(["notes.txt": content], fixture: fixture)
            let outside = try fixture.scratch.folder("outside")
            let precious = Data("precious\n".utf8)
            try write(precious, to: outside + "/somefile")
            let target = try fixture.scratch.folder("out")
            #expect(link(outside + "/somefile", target + "/notes.txt.part") == 0)

            let summary = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()

            #expect(summary.failed == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: outside + "/somefile")) == precious)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/notes.txt")) == content)
        }
    }
}

/// Collects what a sync reports (failures by path, notices in order).
final class CollectingReporter: SyncReporter, @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var events: [SyncEvent] = []

    func report(_ event: SyncEvent) { lock.withLock { events.append(event) } }

    var failures: [String: String] {
        lock.withLock {
            var result: [String: String] = [:]
            for case .failed(let path, let reason) in events { result[path] = reason }
            return result
        }
    }

    var notices: [String] {
        lock.withLock { events.compactMap { if case .notice(let text) = $0 { text } else { nil } } }
    }
}

func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
}

/// The permission bits of a path (not following a final link).
func mode(_ path: String) throws -> mode_t {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ENOENT) }
    return info.st_mode & 0o777
}

/// The process's umask, read the way the shell's `umask` does (set and restore).
func processUmask() -> mode_t {
    let previous = umask(0o022)
    umask(previous)
    return previous
}
