import Foundation
import GRDB
import Testing
import TestSupport

@testable import AssetSync

@Suite("group commit of lifecycle transitions")
struct GroupCommitTests {
    @Test("concurrent workers' transitions are each committed before their commit returns")
    func concurrentTransitionsAreDurable() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try StateStore.open(path: scratch.path("s.sqlite"))
        let workers = 8
        let steps: [PushState] = [.creating, .created, .uploading, .uploaded, .marking, .marked, .verifying]
        try store.enqueuePushes((0..<workers).map { index in
            (file: LocalFile(path: "f\(index)", size: 1, mtimeNs: 1), digest: FileDigest(md5: "m", sha256: "s", size: 1) as FileDigest?)
        })
        let jobs = try store.activePushJobs()
        let mismatches = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: workers) { index in
            guard var job = jobs["f\(index)"] else {
                mismatches.update { $0.append("f\(index) was not queued") }
                return
            }
            for round in 0..<25 {
                for state in steps {
                    job.error = "round \(round)"
                    do {
                        try store.commit(&job, state: state)
                        // Another connection sees the transition as soon as commit returns.
                        let seen = try store.pool.read { db in try PushJob.fetchOne(db, key: job.id) }
                        if seen?.state != state || seen?.error != job.error {
                            mismatches.update { $0.append("f\(index): committed \(state), read \(String(describing: seen?.state))") }
                        }
                    } catch {
                        mismatches.update { $0.append("f\(index): \(error)") }
                    }
                }
            }
        }
        #expect(mismatches.value.isEmpty, "\(mismatches.value.prefix(5))")
        let counts = store.transitions.counts
        #expect(counts.writes == workers * 25 * steps.count)
        #expect(try store.pushCounts()[.verifying] == workers)
    }

    @Test("a write that fails fails only its caller; the others in the same group commit")
    func failingWriteFailsAlone() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try StateStore.open(path: scratch.path("s.sqlite"))
        try store.setMeta("seed", "0")
        let outcomes = Locked<[Int: Bool]>([:])
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            do {
                try store.transitions.write { db in
                    if index == 7 { try db.execute(sql: "INSERT INTO no_such_table VALUES (1)") }
                    try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: ["k\(index)", "\(index)"])
                }
                outcomes.update { $0[index] = true }
            } catch {
                outcomes.update { $0[index] = false }
            }
        }
        #expect(outcomes.value.count == 16)
        #expect(outcomes.value.filter { !$0.value }.map(\.key) == [7])
        for index in 0..<16 {
            #expect(try store.meta("k\(index)") == (index == 7 ? nil : "\(index)"))
        }
    }
}
