import AssetSync
import Foundation
import GRDB
import PixieBrix
import Testing
import TestSupport

/// Kills `assets push` and `assets pull` with SIGKILL at random moments and checks that a final
/// run finishes with nothing lost and nothing duplicated.
@Suite("crash safety of the built binary", .serialized)
struct CrashSafetyTests {
    /// Kills that must land while the process runs; attempts are bounded.
    static let kills = 30
    static let maxAttempts = 90

    @Test("push of 300 files killed 30 times: every file ends with exactly one uploaded asset, bytes equal")
    func pushSurvivesKills() async throws {
        // Added latency keeps each run long enough that the kills land at every step of the lifecycle.
        try await withFixture(faults: "latency=40ms") { fixture in
            let source = try fixture.scratch.folder("source")
            var random = SeededGenerator(seed: 2024)
            for index in 0..<300 {
                let size = index % 50 == 0 ? 1_500_000 : Int.random(in: 0...60_000, using: &random)
                try write(pseudoRandomBytes(size, seed: UInt64(index)), to: source + "/d\(index % 7)/file \(index).bin")
            }
            let expected = try treeDigest(source)
            let arguments = ["push", source, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                             "--state", fixture.scratch.path("push.sqlite"), "--quiet"]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            var killedMidLifecycle = 0
            let state = fixture.scratch.path("push.sqlite")
            let inFlight = ["creating", "created", "uploading", "uploaded", "marking", "marked", "verifying"]
            let (killedMidRun, attempts) = try await killRepeatedly(
                arguments, environment: environment, random: &random,
                working: { jobCount(in: state, table: "push_jobs", states: inFlight) > 0 }
            ) {
                // Did the kill catch files inside a lifecycle step?
                let counts = try StateStore.open(path: fixture.scratch.path("push.sqlite")).pushCounts()
                if [.creating, .uploading, .marking, .verifying].contains(where: { counts[$0, default: 0] > 0 }) {
                    killedMidLifecycle += 1
                }
            }
            #expect(killedMidRun >= Self.kills)
            #expect(killedMidLifecycle >= Self.kills / 3)
            let final = try await CLI.run(arguments, environment: environment)
            #expect(final.status == 0, "final push: \(final.stderr)")

            let assets = try await fixture.client.assets(database: fixture.database)
            let uploaded = Dictionary(grouping: assets.filter(\.isUploaded), by: \.filename)
            #expect(Set(uploaded.keys) == Set(expected.keys))
            let duplicated = uploaded.filter { $0.value.count != 1 }.keys.sorted()
            #expect(duplicated.isEmpty, "files with more than one uploaded asset: \(duplicated)")
            let orphans = assets.filter { !$0.isUploaded }.count
            // Every asset left unmarked on the server is one the queue knew it might leave: it committed
            // `creating` before each create, so a kill during one is recorded on the next start.
            let recorded = try StateStore.open(path: fixture.scratch.path("push.sqlite")).orphans().count
            #expect(orphans <= recorded, "\(orphans) unmarked assets on the server, \(recorded) recorded as possible orphans")
            print("push crash test: \(killedMidRun) of \(attempts) runs killed mid-run (\(killedMidLifecycle) inside a lifecycle step), \(orphans) orphan asset(s), "
                + "\(uploaded.count) files uploaded once")

            let target = try fixture.scratch.folder("check")
            let pulled = try await fixture.puller(target, store: try fixture.store("check.sqlite")).pull()
            #expect(pulled.failed == 0)
            #expect(try treeDigest(target) == expected)
        }
    }

    @Test("pull killed 30 times: no .part left, bytes equal, resumed downloads keep their bytes")
    func pullSurvivesKills() async throws {
        try await withFixture(faults: "latency=40ms") { fixture in
            let source = try fixture.scratch.folder("source")
            var random = SeededGenerator(seed: 77)
            for index in 0..<300 {
                let size = index % 20 == 0 ? 6_000_000 : Int.random(in: 0...40_000, using: &random)
                try write(pseudoRandomBytes(size, seed: UInt64(index)), to: source + "/p\(index % 5)/f\(index).bin")
            }
            let expected = try treeDigest(source)
            let pushed = try await fixture.pusher(source, store: try fixture.store("push.sqlite")).push()
            #expect(pushed.failed == 0)

            let target = try fixture.scratch.folder("target")
            let arguments = ["pull", target, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                             "--state", fixture.scratch.path("pull.sqlite"), "--quiet"]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            var partialBytesSeen: Int64 = 0
            var killsThatLeftAPart = 0
            var lastPartSizes: [String: Int64] = [:]
            var shrunk: [String] = []
            let state = fixture.scratch.path("pull.sqlite")
            let (killedMidRun, attempts) = try await killRepeatedly(
                arguments, environment: environment, random: &random,
                working: { partFiles(under: target).values.contains { $0 > 0 } || jobCount(in: state, table: "pull_jobs", states: ["verifying"]) > 0 }
            ) {
                let parts = partFiles(under: target)
                // A resumed download appends: its .part never shrinks between two kills.
                shrunk += parts.filter { path, size in (lastPartSizes[path] ?? 0) > size }.keys
                lastPartSizes = parts
                partialBytesSeen += parts.values.reduce(0, +)
                if parts.values.contains(where: { $0 > 0 }) { killsThatLeftAPart += 1 }
            }
            #expect(killedMidRun >= Self.kills)
            // Kills that cut a download: without them, "resume appends" and "no .part left" prove nothing.
            #expect(killsThatLeftAPart >= 5, "only \(killsThatLeftAPart) kills left a partial download")
            #expect(partialBytesSeen > 0)
            #expect(shrunk.isEmpty, "partial downloads that started over: \(shrunk)")
            let final = try await CLI.run(arguments, environment: environment)
            #expect(final.status == 0, "final pull: \(final.stderr)")
            #expect(partFiles(under: target).isEmpty)
            #expect(try treeDigest(target) == expected)
            print("pull crash test: \(killedMidRun) of \(attempts) runs killed mid-run, \(killsThatLeftAPart) left a .part, "
                + "\(partialBytesSeen) bytes of .part files were on disk across the kills")
        }
    }

    /// Starts the binary and, once `working` says it has jobs in flight (or it has ended), SIGKILLs it
    /// after a further random delay, until `kills` kills landed while it ran (or `maxAttempts` runs);
    /// `afterKill` inspects the aftermath of each. Returns both counts. Waiting for work first keeps
    /// the kills inside the lifecycle however slowly a loaded machine starts the binary.
    private func killRepeatedly(_ arguments: [String], environment: [String: String],
                                random: inout SeededGenerator, working: () -> Bool,
                                afterKill: () throws -> Void) async throws -> (killedMidRun: Int, attempts: Int) {
        var killedMidRun = 0
        var attempts = 0
        while killedMidRun < Self.kills && attempts < Self.maxAttempts {
            attempts += 1
            let running = try CLI.start(arguments, environment: environment)
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while running.isRunning && !working() && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300, using: &random)))
            running.kill()
            if await running.wait().signalled { killedMidRun += 1 }
            try afterKill()
        }
        return (killedMidRun, attempts)
    }

    /// Jobs of `table` in one of `states`, read from a state file that a running process holds (SQLite
    /// in WAL mode lets a reader in); 0 while the file does not exist yet.
    private func jobCount(in path: String, table: String, states: [String]) -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(1)
        let placeholders = states.map { _ in "?" }.joined(separator: ",")
        return (try? DatabaseQueue(path: path, configuration: configuration).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE state IN (\(placeholders))",
                             arguments: StatementArguments(states))
        } ?? 0) ?? 0
    }

    /// The `.part` files under `root` and their sizes.
    private func partFiles(under root: String) -> [String: Int64] {
        var sizes: [String: Int64] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".part") else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: root + "/" + relative)[.size]) as? NSNumber
            sizes[relative] = size?.int64Value ?? 0
        }
        return sizes
    }
}
