import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

#if canImport(Glibc)
import Glibc
#endif

/// `assets pull --follow` of the built binary, run as a service runs it: new assets arrive while it runs, it is
/// killed with SIGKILL mid-download and started again, it is stopped with SIGTERM.
@Suite("assets pull --follow, the built binary", .serialized)
struct FollowProcessTests {
    @Test("an asset uploaded while it runs lands locally; quiet polls read one page of the listing")
    func uploadedWhileRunning() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<130 { try write(pseudoRandomBytes(300 + index, seed: UInt64(index)), to: source + "/f\(index).bin") }
            let sourceStore = try fixture.store("source.sqlite")
            #expect(try await fixture.pusher(source, store: sourceStore).push().done == 130)
            let target = try fixture.scratch.folder("target")
            let follow = FollowProcess(fixture: fixture, folder: target, extra: ["--interval", "1s", "--metrics", "127.0.0.1:0"])
            let running = try follow.start()
            try await eventually("the assets uploaded before the start are pulled") { try completeFileCount(target) == 130 }
            let metrics = try await printedMetricsURL(running)

            try write(pseudoRandomBytes(70_000, seed: 4242), to: source + "/arrived later.bin")
            #expect(try await fixture.pusher(source, store: sourceStore).push().done == 1)
            try await eventually("the new asset arrives") {
                FileManager.default.fileExists(atPath: target + "/arrived later.bin")
            }
            #expect(try treeDigest(target) == treeDigest(source))

            try await withTransferEngine { engine in
                // 131 assets at 100 a page: a poll that finds something reads on to the first page of known
                // assets; a quiet poll stops after one page.
                let healthURL = metrics.deletingLastPathComponent().appendingPathComponent("healthz")
                func health() async throws -> [String: Any] {
                    let body = try await engine.perform(HTTPRequest(url: healthURL)).body
                    return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
                }
                var polls = 0
                try await eventually("the arrival is counted") {
                    let status = try await health()
                    polls = status["polls"] as? Int ?? 0
                    return status["done"] as? Int == 131 && status["queued"] as? Int == 0
                }
                var quiet: [String: Any] = [:]
                try await eventually("a poll after the arrival") {
                    quiet = try await health()
                    return (quiet["polls"] as? Int ?? 0) > polls
                }
                #expect(quiet["lastPollPages"] as? Int == 1, "\(quiet)")
                #expect(quiet["orderedListing"] as? Bool == true, "\(quiet)")
                #expect(quiet["state"] as? String == "following", "\(quiet)")
                let text = String(decoding: try await engine.perform(HTTPRequest(url: metrics)).body, as: UTF8.self)
                #expect(text.contains("assets_follow_files_done_total 131"), "\(text.prefix(3000))")
                #expect(text.contains("assets_follow_file_latency_seconds_count 131"), "\(text.prefix(3000))")
            }
            running.kill(SIGTERM)
            let outcome = await running.wait()
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(2000))")
            #expect(!outcome.signalled)
            let downloaded = outcome.stderr.split(separator: "\n").filter { $0.contains("downloaded") }.count
            #expect(downloaded == 131, "one log line per downloaded file")
        }
    }

    @Test("SIGKILL during a download, restart: the download resumes, nothing is downloaded twice, bytes equal")
    func killedMidDownload() async throws {
        let serverLog = LogCapture()
        try await withFixture(serverLog: serverLog) { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<12 { try write(pseudoRandomBytes(2000 + index, seed: UInt64(index)), to: source + "/small-\(index).bin") }
            let big = source + "/zz-big.bin"
            let made = try await CLI.runProgram(["/bin/dd", "if=/dev/urandom", "of=\(big)", "bs=1M", "count=300"])
            #expect(made == 0)
            #expect(try await fixture.pusher(source, store: try fixture.store("source.sqlite")).push().done == 13)
            let bigSize = try #require(try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int)

            let target = try fixture.scratch.folder("target")
            // One transfer at a time, in path order: the small files first, then the big one.
            let follow = FollowProcess(fixture: fixture, folder: target, extra: ["--interval", "1s", "--transfers", "1"])
            let first = try follow.start()
            var partSize = 0
            while first.isRunning && partSize == 0 {
                let size = (try? FileManager.default.attributesOfItem(atPath: target + "/zz-big.bin.part")[.size] as? Int) ?? nil
                if let size, size > 0, size < bigSize { partSize = size } else { try await Task.sleep(for: .milliseconds(2)) }
            }
            first.kill(SIGKILL)
            let killed = await first.wait()
            #expect(killed.signalled)
            try #require(partSize > 0, "the kill must land during the big download")
            #expect(!FileManager.default.fileExists(atPath: target + "/zz-big.bin"), "killed before the big file was complete")

            let second = try follow.start()
            try await eventually("the big file is in place after the restart") {
                FileManager.default.fileExists(atPath: target + "/zz-big.bin")
            }
            second.kill(SIGTERM)
            let stopped = await second.wait()
            #expect(stopped.status == 0, "\(stopped.stderr.suffix(2000))")
            #expect(try treeDigest(target) == treeDigest(source))
            #expect(!(try FileManager.default.contentsOfDirectory(atPath: target)).contains { $0.hasSuffix(".part") })

            // Storage's own log: each asset's object fetched once, the big one resumed from the kept bytes.
            let assets = try await fixture.uploadedAssets()
            let downloads = serverLog.messages("storage download")
            for (name, versions) in assets {
                let asset = try #require(versions.first)
                let fetches = downloads.filter { $0.metadata["key"]?.hasSuffix(asset.id) == true }
                if name == "zz-big.bin" {
                    let offsets = fetches.compactMap { $0.metadata["offset"].flatMap { Int($0) } }
                    #expect(offsets.count == 2 && offsets.first == 0 && (offsets.last ?? 0) >= partSize,
                            "the big file: one download from 0, one resumed (offsets \(offsets), part \(partSize))")
                } else {
                    #expect(fetches.count == 1, "\(name) was fetched \(fetches.count) times")
                }
            }
        }
    }

    @Test("SIGTERM: exit 0 and \"stopped\" on stderr; files in flight finish, none is left as a .part")
    func sigtermExitsZero() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("source")
            for index in 0..<40 { try write(pseudoRandomBytes(200_000, seed: UInt64(index)), to: source + "/\(index).bin") }
            #expect(try await fixture.pusher(source, store: try fixture.store("source.sqlite")).push().done == 40)
            let target = try fixture.scratch.folder("target")
            let follow = FollowProcess(fixture: fixture, folder: target, extra: ["--interval", "1s", "--transfers", "2"])
            let running = try follow.start()
            try await eventually("a first file arrives") { try completeFileCount(target) > 0 }
            running.kill(SIGTERM)
            let outcome = await running.wait()
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(2000))")
            #expect(!outcome.signalled)
            #expect(outcome.stderr.contains("stopped"))
            let names = try FileManager.default.contentsOfDirectory(atPath: target)
            #expect(!names.contains { $0.hasSuffix(".part") }, "a download was cut off: \(names.filter { $0.hasSuffix(".part") })")

            let again = try follow.start()
            try await eventually("the rest arrives on the next start") { try completeFileCount(target) == 40 }
            again.kill(SIGTERM)
            #expect(await again.wait().status == 0)
            #expect(try treeDigest(target) == treeDigest(source))
        }
    }
}

/// Runs `assets pull DIR --follow` against the fixture's server, output captured in files.
struct FollowProcess {
    let fixture: Fixture
    let folder: String
    let extra: [String]

    func start() throws -> WatchProcess.Running {
        try CLI.requireBinary()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["pull", folder, "--follow", "--database", fixture.database, "--url",
                             fixture.server.url.absoluteString, "--state", fixture.scratch.path("follow.sqlite")] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["PIXIEBRIX_URL"] = nil
        environment["PIXIEBRIX_TOKEN"] = fixture.server.token
        process.environment = environment
        let id = UUID().uuidString.prefix(8)
        let out = fixture.scratch.path("follow-\(id).out")
        let err = fixture.scratch.path("follow-\(id).err")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return WatchProcess.Running(process: process, stdoutPath: out, stderrPath: err)
    }
}

/// Complete files at the top of a folder (no `.part`), counted by name: a `.part` renamed meanwhile is no error.
func completeFileCount(_ folder: String) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasSuffix(".part") }.count
}

/// The `/metrics` URL a `--metrics 127.0.0.1:0` process printed.
func printedMetricsURL(_ running: WatchProcess.Running) async throws -> URL {
    var address: String?
    try await eventually("the metrics address is printed") {
        address = running.stderrSoFar.split(separator: "\n").first { $0.contains("metrics on") }
            .flatMap { $0.split(separator: " ").last.map(String.init) }
        return address != nil
    }
    let printed = try #require(address)
    return try #require(URL(string: printed))
}
