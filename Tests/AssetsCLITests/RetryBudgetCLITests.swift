import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

#if canImport(Glibc)
import Glibc
#endif

/// Issue 9 from the command line: a spent retry budget, `status` and `retry` while `watch` runs.
@Suite("retry budget, status and retry beside watch (the built binary)", .serialized)
struct RetryBudgetCLITests {
    @Test("storage failing 90% of uploads outlasts --retries 0: exit 1, status names the files and the last error, a later push finishes them once")
    func budgetRunsOut() async throws {
        try await withFixture(faults: "upload.rate500=0.9,seed=21") { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<12 { try write(pseudoRandomBytes(3000 + index, seed: UInt64(index)), to: source + "/\(index).bin") }
            let expected = try treeDigest(source)
            let common = [source, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                          "--state", fixture.scratch.path("push.sqlite")]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]

            let first = try await CLI.run(["push"] + common + ["--retries", "0", "--json"], environment: environment)
            #expect(first.status == 1, "first push: \(first.stderr)")
            let summary = try #require(first.stdout.split(separator: "\n").last { $0.contains(#""event":"summary""#) })
            #expect(summary.contains(#""retries":0"#))

            let status = try await CLI.run(["status"] + common + ["--json"], environment: environment)
            #expect(status.status == 0)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            let failures = try #require(object["failures"] as? [[String: Any]])
            #expect(!failures.isEmpty, "no file ran out of retries")
            for failure in failures {
                #expect(expected.keys.contains(failure["path"] as? String ?? ""))
                let reason = failure["reason"] as? String ?? ""
                #expect(reason.contains("HTTP 500") && reason.contains("gave up after 0 retries"), "reason: \(reason)")
            }

            try await withTransferEngine { engine in try await setFaults("", server: fixture.server, engine: engine) }
            let second = try await CLI.run(["push"] + common + ["--json"], environment: environment)
            #expect(second.status == 0, "second push: \(second.stderr)")
            let uploaded = try await fixture.uploadedAssets()
            #expect(Set(uploaded.keys) == Set(expected.keys))
            #expect(uploaded.values.allSatisfy { $0.count == 1 })
            let after = try await CLI.run(["status"] + common, environment: environment)
            #expect(!after.stdout.contains("failures"))
        }
    }

    @Test("status prints the counts while watch runs; retry hands failed jobs to the running watch")
    func statusAndRetryBesideWatch() async throws {
        try await withFixture(faults: "upload.rate500=1") { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let state = fixture.scratch.path("watch.sqlite")
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let common = [inbox, "--database", fixture.database, "--url", fixture.server.url.absoluteString, "--state", state]
            let watch = try CLI.start(["watch"] + common + ["--retries", "0", "--settle", "0.2"], environment: environment)
            defer { watch.kill() }
            for index in 0..<3 { try write(pseudoRandomBytes(2000 + index, seed: UInt64(index)), to: inbox + "/\(index).bin") }

            // Every upload fails at once (no retries): the jobs end failed while watch runs.
            var failedCount = 0
            for _ in 0..<600 where failedCount < 3 {
                try await Task.sleep(for: .milliseconds(100))
                let status = try await CLI.run(["status"] + common + ["--json"], environment: environment)
                guard status.status == 0,
                      let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                else {
                    Issue.record("status failed while watch runs: \(status.stderr)")
                    return
                }
                failedCount = ((object["push"] as? [String: Int])?["failed"]) ?? 0
            }
            #expect(failedCount == 3, "the three files did not fail while watch ran")
            let text = try await CLI.run(["status"] + common, environment: environment)
            #expect(text.status == 0)
            #expect(text.stdout.contains("push jobs: failed 3"), "status: \(text.stdout)")

            try await withTransferEngine { engine in try await setFaults("", server: fixture.server, engine: engine) }
            let retry = try await CLI.run(["retry"] + common, environment: environment)
            #expect(retry.status == 0, "retry: \(retry.stderr)")
            #expect(retry.stderr.contains("handed the retry to it"))
            #expect(retry.stdout.contains("requeued 3 push job(s)"), "retry: \(retry.stdout)")

            var uploaded = 0
            for _ in 0..<600 where uploaded < 3 {
                try await Task.sleep(for: .milliseconds(100))
                uploaded = try await fixture.uploadedAssets().count
            }
            #expect(uploaded == 3, "the requeued files were not uploaded by the running watch")
            #expect(watch.process.isRunning)
        }
    }
}
