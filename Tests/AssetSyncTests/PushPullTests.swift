@testable import AssetSync
import Foundation
import Transfer
import PixieBrix
import Testing
import TestSupport

@Suite("push and pull against assets serve")
struct PushPullTests {
    @Test("a tricky tree round-trips byte-identical; a second push uploads nothing; one change uploads one asset")
    func roundTrip() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            let expected = try makeTrickyTree(at: source, smallFiles: 1000)
            let store = try fixture.store()

            let first = try await fixture.pusher(source, store: store).push()
            #expect(first.failed == 0)
            #expect(first.done == expected.count)
            var remote = try await fixture.uploadedAssets()
            #expect(remote.count == expected.count)
            #expect(remote.values.allSatisfy { $0.count == 1 })

            let target = try fixture.scratch.folder("target")
            let pulled = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()
            #expect(pulled.failed == 0)
            #expect(try treeDigest(target) == expected)

            let second = try await fixture.pusher(source, store: store).push()
            #expect(second.done == 0)
            #expect(second.unchanged == expected.count)

            try write(Data("changed\n".utf8), to: source + "/with spaces/a file with spaces.txt")
            let third = try await fixture.pusher(source, store: store).push()
            #expect(third.done == 1)
            remote = try await fixture.uploadedAssets()
            #expect(remote["with spaces/a file with spaces.txt"]?.count == 2)
            #expect(remote.values.reduce(0) { $0 + $1.count } == expected.count + 1)

            // The newest asset per filename wins on pull.
            let again = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()
            #expect(again.done == 1)
            #expect(try String(contentsOfFile: target + "/with spaces/a file with spaces.txt", encoding: .utf8) == "changed\n")
        }
    }

    @Test("without a manifest, files already on the server with the same length are not uploaded again")
    func remoteComparisonWithoutManifest() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<20 { try write(pseudoRandomBytes(5000 + index, seed: UInt64(index)), to: source + "/f\(index).bin") }
            _ = try await fixture.pusher(source, store: try fixture.store("first.sqlite")).push()
            try write(Data("new".utf8), to: source + "/new.txt")
            let fresh = try await fixture.pusher(source, store: try fixture.store("second.sqlite")).push()
            #expect(fresh.done == 1)
            #expect(fresh.unchanged == 20)
            let remote = try await fixture.uploadedAssets()
            #expect(remote.values.allSatisfy { $0.count == 1 })
        }
    }

    @Test("ignore rules: .assetsignore, --exclude, --include, dotfiles and .part files stay local")
    func ignoreRules() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            for name in ["keep.png", "skip.tmp", ".hidden", "half.part", "logs/a.log", "logs/keep.txt", "raw/x.png",
                         "sub/.assetsignore", "sub/secret.key", "sub/ok.png"] {
                try write(Data(name.utf8), to: source + "/" + name)
            }
            try write(Data("*.tmp\nlogs/*.log\n".utf8), to: source + "/.assetsignore")
            try write(Data("*.key\n".utf8), to: source + "/sub/.assetsignore")
            var options = PushOptions()
            options.exclude = ["raw/"]
            let plan = try await fixture.pusher(source, store: try fixture.store(), options: options).plan()
            #expect(plan.uploads.map(\.path).sorted() == ["keep.png", "logs/keep.txt", "sub/ok.png"])
            options.include = ["*.png"]
            let included = try await fixture.pusher(source, store: try fixture.store("b.sqlite"), options: options).plan()
            #expect(included.uploads.map(\.path).sorted() == ["keep.png", "sub/ok.png"])
        }
    }

    @Test("a file whose name is too long is recorded as failed; the others finish")
    func badFilesFailAlone() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            try write(Data("fine".utf8), to: source + "/fine.txt")
            let longName = String(repeating: "n", count: 250) + "/" + String(repeating: "m", count: 50) + ".txt"
            try write(Data("long".utf8), to: source + "/" + longName)
            let store = try fixture.store()
            let summary = try await fixture.pusher(source, store: store).push()
            #expect(summary.done == 1)
            #expect(summary.failed == 1)
            let failures = try store.failedPushes()
            #expect(failures.contains { $0.path == longName && ($0.error ?? "").contains("255") })
            #expect(try await fixture.uploadedAssets()["fine.txt"]?.count == 1)
        }
    }

    @Test("a file deleted after it was queued fails alone, before any asset is created for it")
    func fileDeletedAfterScan() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            try write(Data("stays".utf8), to: source + "/stays.txt")
            try write(Data("goes".utf8), to: source + "/goes.txt")
            let store = try fixture.store()
            let status = try #require(LocalScanner.fileStatus(path: source + "/goes.txt"))
            try store.enqueuePush(LocalFile(path: "goes.txt", size: status.size, mtimeNs: status.mtimeNs),
                                  digest: try FileDigest.of(path: source + "/goes.txt"))
            try FileManager.default.removeItem(atPath: source + "/goes.txt")
            let summary = try await fixture.pusher(source, store: store).push()
            #expect(summary.done == 1)
            #expect(summary.failed == 1)
            #expect(try store.failedPushes().first?.error?.contains("disappeared") == true)
            let assets = try await fixture.client.assets(database: fixture.database)
            #expect(assets.map(\.filename) == ["stays.txt"])
        }
    }

    @Test("an upload URL that expired before its upload gets a fresh create, not a failed job")
    func expiredUploadURL() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            try write(Data("late".utf8), to: source + "/late.txt")
            let store = try fixture.store()
            let status = try #require(LocalScanner.fileStatus(path: source + "/late.txt"))
            try store.enqueuePush(LocalFile(path: "late.txt", size: status.size, mtimeNs: status.mtimeNs),
                                  digest: try FileDigest.of(path: source + "/late.txt"))
            // A run that stopped right after its create: the job holds an upload URL...
            var job = try #require(try store.activePushJobs()["late.txt"])
            let upload = try await fixture.client.createAsset(database: fixture.database, filename: "late.txt")
            job.assetId = upload.asset.id
            job.uploadUrl = upload.post.url.absoluteString
            job.uploadFields = PushRunner.encodeFields(upload.post.fields)
            job.issuedAt = Date()
            try store.commit(&job, state: .created)
            // ...that storage no longer accepts two hours later.
            try await advanceClock(seconds: 7200, fixture: fixture)
            let summary = try await fixture.pusher(source, store: store).push()
            #expect(summary.done == 1)
            #expect(summary.failed == 0)
            #expect(try store.orphans().map(\.assetId) == [upload.asset.id])
            // Storage itself refused the stored link (it was sent, and had expired): not a link we failed to read back.
            #expect(try store.orphans().first?.reason.contains("storage refused") == true)
            let uploaded = try #require(try await fixture.uploadedAssets()["late.txt"])
            #expect(uploaded.map(\.id) != [upload.asset.id])
        }
    }

    @Test("pull never writes outside the folder, whatever the remote filename")
    func unsafeRemoteNames() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            try write(Data("payload".utf8), to: source + "/x")
            // Upload a file under hostile remote names through the API directly.
            for name in ["../../etc/x", "/abs/olute.txt", "ok/../../up.txt", "ctl\u{01}name"] {
                let upload = try await fixture.client.createAsset(database: fixture.database, filename: name)
                _ = try await fixture.client.upload(upload.post, file: source + "/x", filename: name)
                try await fixture.client.markUploaded(database: fixture.database, id: upload.asset.id)
            }
            let target = try fixture.scratch.folder("deep/target")
            let summary = try await fixture.puller(target, store: try fixture.store()).pull()
            #expect(summary.done == 1)
            #expect(summary.failed == 3)
            #expect(FileManager.default.fileExists(atPath: target + "/abs/olute.txt"))
            #expect(!FileManager.default.fileExists(atPath: fixture.scratch.path("etc/x")))
            #expect(!FileManager.default.fileExists(atPath: fixture.scratch.path("deep/up.txt")))
            #expect(try treeDigest(fixture.scratch.path("deep")).keys.sorted() == ["target/abs/olute.txt"])
        }
    }

    @Test("an interrupted download resumes from the bytes on disk: storage is asked for the rest only")
    func pullResumesPartialFile() async throws {
        let serverLog = LogCapture()
        try await withFixture(serverLog: serverLog) { fixture in
            let source = try fixture.scratch.folder("source")
            let content = pseudoRandomBytes(3_000_000, seed: 42)
            try write(content, to: source + "/big.bin")
            _ = try await fixture.pusher(source, store: try fixture.store("push.sqlite")).push()
            let target = try fixture.scratch.folder("target")
            // Half the file already on disk from an earlier, killed run.
            try write(content.prefix(1_234_567), to: target + "/big.bin.part")
            let store = try fixture.store("pull.sqlite")
            let asset = try #require(try await fixture.uploadedAssets()["big.bin"]?.first)
            try store.enqueuePull(path: "big.bin", assetId: asset.id)
            let summary = try await fixture.puller(target, store: store).pull()
            #expect(summary.done == 1)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/big.bin")) == content)
            #expect(!FileManager.default.fileExists(atPath: target + "/big.bin.part"))
            // What storage served, as it logged it: one ranged GET from the bytes on disk, not the whole file.
            let served = serverLog.messages("storage download").map(\.metadata)
            #expect(served.count == 1, "\(served)")
            #expect(served.first?["range"] == "bytes=1234567-")
            #expect(served.first?["bytes"] == String(3_000_000 - 1_234_567))
        }
    }

    @Test("while a create is at the server, its job is already committed as creating (commit before the step)")
    func commitBeforeCreate() async throws {
        let serverLog = LogCapture()
        try await withFixture(faults: "api.latency=1500ms", serverLog: serverLog) { fixture in
            let source = try fixture.scratch.folder("source")
            try write(Data("one".utf8), to: source + "/one.txt")
            let statePath = fixture.scratch.path("push.sqlite")
            let push = Task { try await fixture.pusher(source, store: try StateStore.open(path: statePath)).push() }
            // The create has reached the server when it logs the POST; it then waits 1.5 s before saving.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(60)
            while !serverLog.messages("api request").contains(where: {
                $0.metadata["method"] == "POST" && $0.metadata["path"]?.hasSuffix("/assets/") == true
            }) && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let counts = try StateStore.openForReading(path: statePath).pushCounts()
            #expect(counts[.creating] == 1, "job states while its create was at the server: \(counts)")
            #expect(try await push.value.done == 1)
        }
    }

    @Test("a download whose bytes differ from storage's ETag fails, and nothing is left in the folder")
    func etagMismatchRefused() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            try write(pseudoRandomBytes(200_000, seed: 5), to: source + "/good.bin")
            #expect(try await fixture.pusher(source, store: try fixture.store("push.sqlite")).push().done == 1)
            // Storage rots: one byte of the stored blob changes behind the server's back (size and ETag unchanged).
            let blobs = fixture.scratch.path("server/blobs")
            let stored = try FileManager.default.contentsOfDirectory(atPath: blobs).map { blobs + "/" + $0 }
                .filter { (try? FileManager.default.attributesOfItem(atPath: $0)[.type] as? FileAttributeType) == .typeRegular }
            let blob = try #require(stored.count == 1 ? stored.first : nil, "expected one stored blob, found \(stored)")
            var bytes = try Data(contentsOf: URL(fileURLWithPath: blob))
            bytes[100_000] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: blob))

            let target = try fixture.scratch.folder("target")
            let store = try fixture.store("pull.sqlite")
            let summary = try await fixture.puller(target, store: store).pull()
            #expect(summary.failed == 1)
            #expect(summary.done == 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: target).filter { !$0.hasPrefix(".") }.isEmpty)
            #expect(try store.failedPulls().first?.error?.contains("ETag") == true)
        }
    }

    @Test("with faults on (429, 500, resets, latency) push and pull finish with the right bytes")
    func faults() async throws {
        try await withFixture(faults: "rate429=0.05,rate500=0.05,reset=0.03,latency=5ms,retry_after=1,seed=7") { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<60 {
                try write(pseudoRandomBytes(2000 + index * 50, seed: UInt64(index)), to: source + "/f/\(index).bin")
            }
            try write(pseudoRandomBytes(2_500_000, seed: 9), to: source + "/large.bin")
            let expected = try treeDigest(source)
            let store = try fixture.store()
            var rounds = 0
            while try await fixture.pusher(source, store: store).push().failed > 0 && rounds < 5 { rounds += 1 }
            let target = try fixture.scratch.folder("target")
            let pullStore = try fixture.store("pull.sqlite")
            rounds = 0
            while try await fixture.puller(target, store: pullStore).pull().failed > 0 && rounds < 5 { rounds += 1 }
            #expect(try treeDigest(target) == expected)
            let remote = try await fixture.uploadedAssets()
            #expect(remote.values.allSatisfy { $0.count == 1 })
        }
    }
}
