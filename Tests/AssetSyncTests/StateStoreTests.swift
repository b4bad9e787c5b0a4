import Foundation
import GRDB
import Testing
import TestSupport

@testable import AssetSync

@Suite("the durable queue")
struct StateStoreTests {
    @Test("one active job per path; same content keeps progress, new content restarts and orphans the asset")
    func enqueueRules() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try StateStore.open(path: scratch.path("s.sqlite"))
        let file = LocalFile(path: "a.txt", size: 3, mtimeNs: 1)
        let digest = FileDigest(md5: "m1", sha256: "s1", size: 3)
        try store.enqueuePush(file, digest: digest)
        var job = try #require(try store.activePushJobs()["a.txt"])
        job.assetId = "asset-1"
        try store.commit(&job, state: .uploaded)

        try store.enqueuePush(file, digest: digest)
        #expect(try store.activePushJobs()["a.txt"]?.state == .uploaded)

        try store.enqueuePush(LocalFile(path: "a.txt", size: 4, mtimeNs: 2), digest: FileDigest(md5: "m2", sha256: "s2", size: 4))
        let restarted = try #require(try store.activePushJobs()["a.txt"])
        #expect(restarted.state == .queued)
        #expect(restarted.md5 == "m2")
        #expect(try store.orphans().map(\.assetId) == ["asset-1"])
        #expect(try store.pushCounts()[.queued] == 1)
    }

    @Test("finishing writes the manifest; retry puts a failed job back where it failed")
    func finishAndRetry() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try StateStore.open(path: scratch.path("s.sqlite"))
        try store.enqueuePush(LocalFile(path: "a", size: 1, mtimeNs: 5), digest: FileDigest(md5: "m", sha256: "s", size: 1))
        try store.enqueuePush(LocalFile(path: "b", size: 1, mtimeNs: 5), digest: FileDigest(md5: "m", sha256: "s", size: 1))
        var a = try #require(try store.activePushJobs()["a"])
        a.assetId = "id-a"
        try store.finish(&a)
        #expect(try store.manifest()["a"]?.assetId == "id-a")
        var b = try #require(try store.activePushJobs()["b"])
        try store.commit(&b, state: .marking)
        try store.fail(&b, reason: "boom")
        #expect(try store.failedPushes().map(\.error) == ["boom"])
        #expect(try store.retryFailedPushes() == 1)
        #expect(try store.activePushJobs()["b"]?.state == .marking)
    }

    @Test("a second process cannot open the same state file")
    func exclusiveLock() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let first = try StateStore.open(path: scratch.path("s.sqlite"))
        #expect(throws: SyncError.self) { _ = try StateStore.open(path: scratch.path("s.sqlite")) }
        _ = first
    }

    @Test("picking the next job stays an indexed read with many queued jobs")
    func batches() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try StateStore.open(path: scratch.path("s.sqlite"))
        for index in 0..<1000 {
            try store.enqueuePush(LocalFile(path: "f\(index)", size: 1, mtimeNs: 1), digest: FileDigest(md5: "m", sha256: "s", size: 1))
        }
        let first = try store.activePushJobs(after: 0, limit: 256)
        let second = try store.activePushJobs(after: first.last!.id!, limit: 256)
        #expect(first.count == 256 && second.count == 256)
        #expect(Set(first.map(\.path)).isDisjoint(with: second.map(\.path)))
        let details = try store.pool.read { db in
            try Row.fetchAll(db, sql: """
                EXPLAIN QUERY PLAN SELECT * FROM push_jobs
                WHERE state IN ('queued','creating','created','uploading','uploaded','marking','marked','verifying')
                AND id > 5 ORDER BY id LIMIT 256
                """).map { $0["detail"] as String }
        }
        #expect(details.contains { $0.contains("INDEX") || $0.contains("PRIMARY KEY") })
    }
}
