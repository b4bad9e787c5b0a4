import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

#if canImport(Glibc)
import Glibc
#endif

/// The built `assets watch` binary as a service runs it: killed with SIGKILL and started again,
/// stopped with SIGTERM.
@Suite("assets watch, the built binary", .serialized)
struct WatchProcessTests {
    @Test("killed with SIGKILL again and again mid-burst, files landing meanwhile: nothing lost, nothing twice")
    func killedMidBurst() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let watch = WatchProcess(fixture: fixture, inbox: inbox, extra: ["--transfers", "16", "--settle", "1"])
            var random = SeededGenerator(seed: 42)
            var written = 0
            var killedWhileWorking = 0
            for round in 0..<8 {
                let running = try watch.start()
                // Files land while it runs, and (below) while it is down.
                for _ in 0..<150 {
                    try write(pseudoRandomBytes(200 + written % 3000, seed: UInt64(written)), to: inbox + "/r\(round)/f\(written).bin")
                    written += 1
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 200...1200, using: &random)))
                // A kill counts when it lands while the process runs with files still to upload.
                let uploaded = try await fixture.uploadedAssets().count
                if running.isRunning && uploaded < written { killedWhileWorking += 1 }
                running.kill(SIGKILL)
                _ = await running.wait()
                for _ in 0..<25 {
                    try write(pseudoRandomBytes(100 + written % 700, seed: UInt64(written)), to: inbox + "/down/f\(written).bin")
                    written += 1
                }
            }
            let expected = try treeDigest(inbox)
            #expect(expected.count == written)
            let final = try watch.start()
            try await eventually("every file is uploaded after the last start") {
                try await fixture.uploadedAssets().count == expected.count
            }
            final.kill(SIGTERM)
            let outcome = await final.wait()
            #expect(outcome.status == 0, "watch after SIGTERM: \(outcome.stderr.suffix(2000))")
            print("watch kill test: \(killedWhileWorking) of 8 runs killed with work left, \(written) files")
            #expect(killedWhileWorking >= 4, "only \(killedWhileWorking) of 8 kills landed while files were still to upload")
            try await expectUploadedOnce(fixture, expected)
        }
    }

    @Test("SIGTERM: no new work, files in flight finish, exit 0; the rest is uploaded on the next start")
    func sigtermDrains() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            for index in 0..<60 { try write(pseudoRandomBytes(100_000, seed: UInt64(index)), to: inbox + "/\(index).bin") }
            // Slow uploads, so that some are in flight when the signal comes.
            let watch = WatchProcess(fixture: fixture, inbox: inbox, extra: ["--transfers", "4", "--bwlimit", "400k"])
            let running = try watch.start()
            try await eventually("a first file is uploaded") { try await !fixture.uploadedAssets().isEmpty }
            running.kill(SIGTERM)
            let outcome = await running.wait()
            #expect(outcome.status == 0, "exit after SIGTERM: \(outcome.stderr.suffix(2000))")
            #expect(!outcome.signalled)
            #expect(outcome.stderr.contains("stopped"))
            // Drained: every asset created so far was also finished (no upload cut off half-way).
            let all = try await allAssets(fixture).values.flatMap { $0 }
            let unfinished = all.filter { !$0.isUploaded }.count
            #expect(unfinished == 0, "\(unfinished) asset(s) left unfinished")
            let first = all.count
            #expect(first < 60, "the drain should have left files queued (all \(first) finished)")

            let again = try watch.start()
            try await eventually("the rest is uploaded on the next start") { try await fixture.uploadedAssets().count == 60 }
            again.kill(SIGTERM)
            let status = await again.wait().status
            #expect(status == 0)
            try await expectUploadedOnce(fixture, try treeDigest(inbox))
        }
    }

    @Test("--metrics serves Prometheus text and /healthz")
    func metricsEndpoint() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            for index in 0..<5 { try write(pseudoRandomBytes(500, seed: UInt64(index)), to: inbox + "/\(index).bin") }
            let watch = WatchProcess(fixture: fixture, inbox: inbox, extra: ["--metrics", "127.0.0.1:0"])
            let running = try watch.start()
            try await eventually("the files are uploaded") { try await fixture.uploadedAssets().count == 5 }
            var address: String?
            try await eventually("the metrics address is printed") {
                address = running.stderrSoFar.split(separator: "\n").first { $0.contains("metrics on") }
                    .flatMap { $0.split(separator: " ").last.map(String.init) }
                return address != nil
            }
            let printed = try #require(address)
            let metricsURL = try #require(URL(string: printed))
            try await withTransferEngine { engine in
                var text = ""
                try await eventually("/metrics counts the five files") {
                    let response = try await engine.perform(HTTPRequest(url: metricsURL))
                    text = String(decoding: response.body, as: UTF8.self)
                    return response.status == 200 && text.contains("assets_watch_files_done_total 5")
                }
                #expect(text.contains("assets_watch_request_duration_seconds_bucket"))
                #expect(text.contains("assets_watch_files_in_flight"))
                let health = try await engine.perform(HTTPRequest(
                    url: metricsURL.deletingLastPathComponent().appendingPathComponent("healthz")))
                #expect(health.status == 200)
                #expect(String(decoding: health.body, as: UTF8.self).contains(#""state":"watching""#))
            }
            running.kill(SIGTERM)
            let outcome = await running.wait()
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(2000))")
            // One info line per uploaded file.
            #expect(outcome.stderr.split(separator: "\n").filter { $0.contains("uploaded") }.count == 5)
        }
    }

    @Test("a folder that does not exist: exit 2 with a message")
    func missingFolder() async throws {
        try await withFixture { fixture in
            let watch = WatchProcess(fixture: fixture, inbox: fixture.scratch.path("nowhere"), extra: [])
            let outcome = await (try watch.start()).wait()
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains("is not a folder"))
        }
    }
}

/// Runs `assets watch` on a folder against the fixture's server, output captured in files.
struct WatchProcess {
    let fixture: Fixture
    let inbox: String
    let extra: [String]

    func start() throws -> Running {
        try CLI.requireBinary()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["watch", inbox, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                             "--state", fixture.scratch.path("watch.sqlite")] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["PIXIEBRIX_URL"] = nil
        environment["PIXIEBRIX_TOKEN"] = fixture.server.token
        process.environment = environment
        let id = UUID().uuidString.prefix(8)
        let out = fixture.scratch.path("watch-\(id).out")
        let err = fixture.scratch.path("watch-\(id).err")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, stdoutPath: out, stderrPath: err)
    }

    final class Running: @unchecked Sendable {
        // @unchecked: Process is only read (isRunning, status) and signalled, never mutated here.
        let process: Process
        let stdoutPath: String
        let stderrPath: String

        init(process: Process, stdoutPath: String, stderrPath: String) {
            self.process = process
            self.stdoutPath = stdoutPath
            self.stderrPath = stderrPath
        }

        var isRunning: Bool { process.isRunning }

        var stderrSoFar: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        func kill(_ signal: Int32) {
            Glibc.kill(process.processIdentifier, signal)
        }

        struct Outcome {
            var status: Int32
            var signalled: Bool
            var stderr: String
        }

        func wait() async -> Outcome {
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            return Outcome(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                           stderr: stderrSoFar)
        }
    }
}
