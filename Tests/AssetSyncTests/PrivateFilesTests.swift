import AssetSync
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// State files hold presigned upload links, the server's data its token and signing secret: owner only.
@Suite("private files")
struct PrivateFilesTests {
    @Test("a new state folder is 0700; the state file, its -wal, -shm and lock are 0600")
    func stateFileModes() async throws {
        try await withFixture { fixture in
            let statePath = fixture.scratch.path("state/nested/sync.sqlite")
            let store = try StateStore.open(path: statePath)
            let source = try fixture.scratch.folder("source")
            try write(Data("x\n".utf8), to: source + "/x.txt")
            _ = try await fixture.pusher(source, store: store).push()

            #expect(try mode(fixture.scratch.path("state/nested")) == 0o700)
            #expect(try mode(fixture.scratch.path("state")) == 0o700)
            for suffix in ["", "-wal", "-shm", ".lock"] {
                #expect(exists(statePath + suffix), "\(suffix) exists while the store is open")
                #expect(try mode(statePath + suffix) == 0o600, "sync.sqlite\(suffix)")
            }
        }
    }

    @Test("a state file an older version left 0644 is made 0600 when opened")
    func looseStateFileTightened() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let statePath = scratch.path("sync.sqlite")
        do { _ = try StateStore.open(path: statePath) }
        for suffix in ["", ".lock"] { chmod(statePath + suffix, 0o644) }
        #expect(try mode(statePath) == 0o644)
        let store = try StateStore.open(path: statePath)
        _ = try store.manifest()
        for suffix in ["", "-wal", "-shm", ".lock"] where exists(statePath + suffix) {
            #expect(try mode(statePath + suffix) == 0o600, "sync.sqlite\(suffix)")
        }
    }

    @Test("assets serve: the data folder is 0700; its database, -wal, -shm and every blob are 0600")
    func serverDataModes() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            try write(Data("blob\n".utf8), to: source + "/blob.txt")
            let summary = try await fixture.pusher(source, store: try fixture.store()).push()
            #expect(summary.done == 1)

            let data = fixture.scratch.path("server")
            #expect(try mode(data) == 0o700)
            #expect(try mode(data + "/blobs") == 0o700)
            for suffix in ["", "-wal", "-shm"] {
                #expect(exists(data + "/server.sqlite" + suffix))
                #expect(try mode(data + "/server.sqlite" + suffix) == 0o600, "server.sqlite\(suffix)")
            }
            let blobs = try FileManager.default.subpathsOfDirectory(atPath: data + "/blobs").filter { isRegularFile(data + "/blobs/" + $0) }
            #expect(!blobs.isEmpty)
            for blob in blobs { #expect(try mode(data + "/blobs/" + blob) == 0o600, "blobs/\(blob)") }
        }
    }
}
