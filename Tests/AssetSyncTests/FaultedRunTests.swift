import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

/// Issue 9: one run finishes the job when the server is merely flaky.
@Suite("one run finishes under faults", .serialized)
struct FaultedRunTests {
    static let faults = "rate429=0.1,rate500=0.05,reset=0.02,seed=9"

    @Test("push of 300 files with 429s, 500s and resets: one run, every file one uploaded asset, each orphan recorded")
    func pushFinishesInOneRun() async throws {
        try await withFixture(faults: Self.faults) { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<300 {
                try write(pseudoRandomBytes(500 + index * 7, seed: UInt64(index)), to: source + "/d\(index % 6)/\(index).bin")
            }
            let expected = try treeDigest(source)
            let store = try fixture.store()
            let summary = try await fixture.pusher(source, store: store).push()
            #expect(summary.failed == 0)
            #expect(summary.done == 300)
            // The case was arranged: faults hit steps, and the run retried them itself.
            #expect(summary.retries > 0)
            try await withTransferEngine { engine in try await setFaults("", server: fixture.server, engine: engine) }

            let assets = try await fixture.client.assets(database: fixture.database)
            let uploaded = Dictionary(grouping: assets.filter(\.isUploaded), by: \.filename)
            #expect(Set(uploaded.keys) == Set(expected.keys))
            #expect(uploaded.values.allSatisfy { $0.count == 1 }, "a file has two uploaded assets")
            // This server saves before it answers 500 or resets, so each create whose answer was lost
            // left an unmarked asset, and the run recorded each one (creates go on a fresh connection,
            // which libcurl never repeats on its own).
            let unmarked = assets.filter { !$0.isUploaded }.count
            let recorded = try store.orphans()
            #expect(!recorded.isEmpty, "no create failed: the faults did not reach the case")
            #expect(unmarked == recorded.count)
            #expect(recorded.allSatisfy { $0.reason.hasPrefix("a create failed after it may have been saved") })
            #expect(summary.orphans == recorded.count)

            let target = try fixture.scratch.folder("target")
            let pulled = try await fixture.puller(target, store: try fixture.store("check.sqlite")).pull()
            #expect(pulled.failed == 0)
            #expect(try treeDigest(target) == expected)
        }
    }

    @Test("pull of 300 files with 429s, 500s and resets: one run, bytes equal, no .part left")
    func pullFinishesInOneRun() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<300 {
                let size = index % 50 == 0 ? 2_000_000 : 500 + index * 7
                try write(pseudoRandomBytes(size, seed: UInt64(index)), to: source + "/d\(index % 6)/\(index).bin")
            }
            let expected = try treeDigest(source)
            let pushed = try await fixture.pusher(source, store: try fixture.store("push.sqlite")).push()
            #expect(pushed.failed == 0)
            try await withTransferEngine { engine in try await setFaults(Self.faults, server: fixture.server, engine: engine) }

            let target = try fixture.scratch.folder("target")
            let summary = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()
            #expect(summary.failed == 0)
            #expect(summary.done == 300)
            #expect(try treeDigest(target) == expected)
            let parts = FileManager.default.enumerator(atPath: target)?.compactMap { $0 as? String }
                .filter { $0.hasSuffix(".part") } ?? []
            #expect(parts.isEmpty, "left behind: \(parts)")
        }
    }

    @Test("a download cut by resets goes on from its last byte within the run")
    func cutDownloadResumes() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            // 160 of storage's 256 KiB chunks: cut after half of what is asked each time, a download
            // that goes on from its last byte needs 8 GETs, more than the engine's 6 attempts; one
            // that started over would never finish.
            let content = pseudoRandomBytes(160 * 256 * 1024, seed: 5)
            try write(content, to: source + "/big.bin")
            #expect(try await fixture.pusher(source, store: try fixture.store("push.sqlite")).push().failed == 0)
            try await withTransferEngine { engine in
                try await setFaults("download.reset=1", server: fixture.server, engine: engine)
            }
            let target = try fixture.scratch.folder("target")
            let summary = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()
            #expect(summary.failed == 0)
            #expect(summary.retries >= 1)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/big.bin")) == content)
            #expect(!FileManager.default.fileExists(atPath: target + "/big.bin.part"))
        }
    }
}
