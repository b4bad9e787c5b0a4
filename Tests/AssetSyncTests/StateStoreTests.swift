import Foundation
import GRDB
import Synchronization
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

    @Test("a job whose content is hashed as it is sent takes the file as it now is; once hashed, a new enqueue must hash")
    func enqueueWithoutDigest() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try StateStore.open(path: scratch.path("s.sqlite"))
        try store.enqueuePush(LocalFile(path: "a.txt", size: 3, mtimeNs: 1), digest: nil)
        var job = try #require(try store.activePushJobs()["a.txt"])
        #expect(!job.contentKnown && job.md5.isEmpty)
        #expect(try store.pathsWithHashedJobs(["a.txt"]).isEmpty)
        job.assetId = "asset-1"
        try store.commit(&job, state: .created)

        // Nothing of it has been sent: it keeps its asset and takes the new size and time.
        try store.enqueuePush(LocalFile(path: "a.txt", size: 5, mtimeNs: 2), digest: nil)
        let refreshed = try #require(try store.activePushJobs()["a.txt"])
        #expect(refreshed.state == .created && refreshed.assetId == "asset-1")
        #expect(refreshed.size == 5 && refreshed.mtimeNs == 2)
        #expect(try store.orphans().isEmpty)

        // The upload recorded the MD5 of what it sent: from now on, an enqueue of the path is compared by hash.
        var sent = refreshed
        sent.md5 = "m5"
        sent.sha256 = ""
        try store.commit(&sent, state: .marking)
        #expect(try store.pathsWithHashedJobs(["a.txt", "other"]) == ["a.txt"])
        try store.enqueuePush(LocalFile(path: "a.txt", size: 5, mtimeNs: 3), digest: FileDigest(md5: "m5", sha256: "", size: 5))
        #expect(try store.activePushJobs()["a.txt"]?.state == .marking)
        // A caller that did not hash restarts it, its content forgotten, rather than mark the old bytes as the new.
        try store.enqueuePush(LocalFile(path: "a.txt", size: 6, mtimeNs: 4), digest: nil)
        let restarted = try #require(try store.activePushJobs()["a.txt"])
        #expect(restarted.state == .queued && !restarted.contentKnown && restarted.size == 6)
        #expect(try store.orphans().map(\.assetId) == ["asset-1"])
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

    @Test("a reader beside a process still setting up the state file waits for its schema, then reads it")
    func readerWaitsForTheSchema() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path("s.sqlite")
        // The file as its owner leaves it between creating it and migrating it: a database with no tables.
        let bare = try DatabaseQueue(path: path)
        try await bare.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode=WAL") }
        try bare.close()

        let reader: Task<[PushState: Int], any Error> = Task.detached {
            try StateStore.openForReading(path: path).pushCounts()
        }
        try await Task.sleep(for: .milliseconds(300))
        let owner = try StateStore.open(path: path)
        try owner.enqueuePush(LocalFile(path: "a", size: 1, mtimeNs: 1), digest: nil)
        let counts = try await reader.value
        #expect(counts.values.reduce(0, +) <= 1, "\(counts)")
    }

    @Test("a second process cannot open the same state file")
    func exclusiveLock() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let first = try StateStore.open(path: scratch.path("s.sqlite"))
        #expect(throws: SyncError.self) { _ = try StateStore.open(path: scratch.path("s.sqlite")) }
        _ = first
    }

    @Test("the store's own statements for picking jobs and finding a path's job use indexes, not scans")
    func indexedStatements() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try StateStore.open(path: scratch.path("s.sqlite"))
        let batch = (0..<1000).map { (LocalFile(path: "f\($0)", size: 1, mtimeNs: 1), FileDigest(md5: "m", sha256: "s", size: 1) as FileDigest?) }
        try store.enqueuePushes(batch)

        // Capture what the store itself sends on its writer connection while it enqueues and picks jobs.
        let statements = StatementLog()
        try store.pool.writeWithoutTransaction { db in
            db.trace(options: .statement) { statements.append($0.expandedDescription) }
        }
        try store.enqueuePush(LocalFile(path: "f7", size: 2, mtimeNs: 2), digest: FileDigest(md5: "n", sha256: "t", size: 2))
        try store.enqueuePush(LocalFile(path: "new", size: 1, mtimeNs: 1), digest: FileDigest(md5: "m", sha256: "s", size: 1))
        let first = try store.activePushJobs(after: 0, limit: 256)
        let second = try store.activePushJobs(after: try #require(first.last?.id), limit: 256)
        #expect(first.count == 256 && second.count == 256)
        #expect(Set(first.map(\.path)).isDisjoint(with: second.map(\.path)))

        let byPath = statements.values.filter { $0.contains("\"path\" = ") && !$0.hasPrefix("INSERT") }
        #expect(!byPath.isEmpty, "no statement looked a job up by path: \(statements.values)")
        for sql in byPath {
            let details = try store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
            #expect(!details.contains { $0.hasPrefix("SCAN push_jobs") || $0.hasPrefix("SCAN pull_jobs") },
                    "\(sql) scans the table: \(details)")
            #expect(details.contains { $0.contains("INDEX") && $0.contains("path=?") }, "\(sql): \(details)")
        }

        // The next-job read, as the store prepares it.
        let nextJobs = try store.pool.read { db in
            try StateStore.activePushJobsRequest(after: 5, limit: 256).makePreparedRequest(db).statement
        }
        let details = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + nextJobs.sql, arguments: nextJobs.arguments)
                .map { $0["detail"] as String }
        }
        #expect(!details.contains { $0.hasPrefix("SCAN push_jobs") }, "\(details)")
        #expect(!details.contains { $0.contains("TEMP B-TREE") }, "\(details)")
    }
}

private final class StatementLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var values: [String] { lines.withLock { $0 } }
}
