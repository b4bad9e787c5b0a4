import AssetServer
import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

/// Two `assets serve` processes on one PostgreSQL (`ASSETS_TEST_POSTGRES`, started by scripts/test) and one
/// data folder serve the same data.
@Suite("replicas of assets serve on PostgreSQL", .serialized)
struct ReplicaTests {
    @Test("an asset pushed through replica A pulls byte-identical through replica B")
    func pushThroughOnePullThroughAnother() async throws {
        try await withReplicas(count: 2) { cluster in
            let (a, b) = (cluster.replicas[0], cluster.replicas[1])
            try await withTransferEngine { engine in
                let clientA = try PixieBrixClient(baseURL: a.url, token: APIToken(cluster.token)!, engine: engine)
                let clientB = try PixieBrixClient(baseURL: b.url, token: APIToken(cluster.token)!, engine: engine)
                let database = try await clientA.createDatabase(name: "replicas").id
                let source = try cluster.scratch.folder("source")
                try write(pseudoRandomBytes(3_000_000, seed: 7), to: source + "/big.bin")
                for index in 0..<25 {
                    try write(pseudoRandomBytes(100 + index * 37, seed: UInt64(index)), to: source + "/small/\(index).dat")
                }
                let expected = try treeDigest(source)
                let pushed = try await Pusher(
                    folder: source, database: database, client: clientA,
                    store: try StateStore.open(path: cluster.scratch.path("push.sqlite"))
                ).push()
                #expect(pushed.failed == 0)
                #expect(pushed.done == expected.count)
                let target = try cluster.scratch.folder("target")
                let pulled = try await Puller(
                    folder: target, database: database, client: clientB,
                    store: try StateStore.open(path: cluster.scratch.path("pull.sqlite"))
                ).pull()
                #expect(pulled.failed == 0)
                #expect(pulled.done == expected.count)
                #expect(try treeDigest(target) == expected)
            }
        }
    }

    @Test("an export job created on A and polled on B succeeds, run by exactly one replica")
    func exportRunsOnce() async throws {
        try await withReplicas(count: 2) { cluster in
            let (a, b) = (cluster.replicas[0], cluster.replicas[1])
            try await withTransferEngine { engine in
                let clientA = try PixieBrixClient(baseURL: a.url, token: APIToken(cluster.token)!, engine: engine)
                let clientB = try PixieBrixClient(baseURL: b.url, token: APIToken(cluster.token)!, engine: engine)
                let database = try await clientA.createDatabase(name: "export-once", type: "Key-Value").id
                try await cluster.seed(database: database, count: 50, through: b, engine: engine)
                let job = try await clientA.createExportJob(name: "once", databases: [database])
                let finished = try await clientB.waitForExportJob(job.id, timeout: .seconds(120))
                #expect(finished.status == .success)
                let rows = try await cluster.sql("SELECT runs FROM export_jobs WHERE id = '\(job.id)'")
                #expect(rows == ["1"], "replicas that started the job")
                let exported = try await download(try #require(finished.data), engine: engine)
                #expect(exportedIDs(exported) == Set((0..<50).map { "r\($0)" }))
            }
        }
    }

    @Test("replica A killed while running an export: B takes the job over when A's lease runs out and finishes it")
    func killedReplicaJobIsTakenOver() async throws {
        // A pauses ten minutes after its first batch, so it is surely mid-job when killed; leases last 2 s.
        try await withReplicas(
            count: 2, extra: [["--export-batch-pause-ms", "600000", "--export-lease", "2"], ["--export-lease", "2"]]
        ) { cluster in
            let (a, b) = (cluster.replicas[0], cluster.replicas[1])
            try await withTransferEngine { engine in
                let clientA = try PixieBrixClient(baseURL: a.url, token: APIToken(cluster.token)!, engine: engine)
                let clientB = try PixieBrixClient(baseURL: b.url, token: APIToken(cluster.token)!, engine: engine)
                let database = try await clientA.createDatabase(name: "takeover", type: "Key-Value").id
                try await cluster.seed(database: database, count: 30, through: a, engine: engine)
                let job = try await clientA.createExportJob(name: "takeover", databases: [database])
                // A claimed it when it was created, and renews its lease while it pauses.
                #expect(try await cluster.sql("SELECT runs FROM export_jobs WHERE id = '\(job.id)'") == ["1"])
                try await Task.sleep(for: .seconds(3))
                #expect(try await clientB.exportJob(job.id).status == .started, "still A's, past one lease")
                a.process.kill()
                _ = await a.process.wait()
                let finished = try await clientB.waitForExportJob(job.id, timeout: .seconds(120))
                #expect(finished.status == .success)
                #expect(try await cluster.sql("SELECT runs FROM export_jobs WHERE id = '\(job.id)'") == ["2"])
                let exported = try await download(try #require(finished.data), engine: engine)
                #expect(exportedIDs(exported) == Set((0..<30).map { "r\($0)" }))
            }
        }
    }

    @Test("the /_admin/clock offset set through A is the time B answers with")
    func clockIsShared() async throws {
        try await withReplicas(count: 2) { cluster in
            let (a, b) = (cluster.replicas[0], cluster.replicas[1])
            try await withTransferEngine { engine in
                let before = Date()
                let advanced = try await cluster.clock(advance: 10 * 86_400, through: a, engine: engine)
                #expect(advanced.timeIntervalSince(before) > 10 * 86_400 - 60)
                // Past B's follow interval (200 ms), B stamps what it creates with A's shifted time.
                try await Task.sleep(for: .seconds(1))
                let request = HTTPRequest(
                    method: .post, url: b.url.appendingPathComponent("api/databases/"),
                    headers: [
                        "Authorization": "Token \(cluster.token)", "Content-Type": "application/json",
                        "Accept": "application/json; version=2.0",
                    ],
                    body: .data(Data(#"{"name": "stamped by B"}"#.utf8)))
                let created = try await engine.perform(request).validate()
                let object = try JSONSerialization.jsonObject(with: created.body) as? [String: Any]
                let stamp = try #require(
                    (object?["created_at"] as? String).flatMap { ISO8601DateFormatter.withFractions.date(from: $0) })
                #expect(stamp.timeIntervalSince(before) > 10 * 86_400 - 60, "created_at \(stamp)")
                let seenByB = try await cluster.clock(advance: 0, through: b, engine: engine)
                #expect(abs(seenByB.timeIntervalSince(advanced)) < 60, "B: \(seenByB), A: \(advanced)")
            }
        }
    }
}

// MARK: Support

/// Replicas sharing one fresh schema of `ASSETS_TEST_POSTGRES`, one data folder and one token.
struct ReplicaCluster: Sendable {
    struct Replica: Sendable {
        let process: CLI.Running
        let url: URL
    }

    let replicas: [Replica]
    let token: String
    let base: String
    let schema: String
    let scratch: Scratch

    /// Rows of a one-column query in the cluster's schema, through `psql`.
    func sql(_ query: String) async throws -> [String] {
        let outcome = try await capture(
            ["/usr/bin/psql", base, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", "SET search_path TO \(schema); \(query)"])
        #expect(outcome.status == 0, "psql: \(outcome.output)")
        return outcome.output.split(separator: "\n").map(String.init).filter { $0 != "SET" }
    }

    /// Moves a replica's clock by `seconds` and returns the time it then answers with.
    func clock(advance seconds: Int, through replica: Replica, engine: TransferEngine) async throws -> Date {
        let request = HTTPRequest(
            method: .post, url: replica.url.appendingPathComponent("_admin/clock"),
            headers: ["Authorization": "Token \(token)", "Content-Type": "application/json"],
            body: .data(try JSONSerialization.data(withJSONObject: ["advance": seconds])))
        let response = try await engine.perform(request).validate()
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let text = try #require(object?["now"] as? String)
        return try #require(ISO8601DateFormatter.withFractions.date(from: text) ?? ISO8601DateFormatter().date(from: text))
    }

    /// Records `r0`…`r<count-1>` seeded through a replica's admin route.
    func seed(database: String, count: Int, through replica: Replica, engine: TransferEngine) async throws {
        let records = (0..<count).map { ["id": "r\($0)", "data": ["n": $0, "label": "record \($0)"]] as [String: Any] }
        let body = try JSONSerialization.data(withJSONObject: ["database": database, "records": records])
        let request = HTTPRequest(
            method: .post, url: replica.url.appendingPathComponent("_admin/records"),
            headers: ["Authorization": "Token \(token)", "Content-Type": "application/json"], body: .data(body))
        try await engine.perform(request).validate()
    }
}

/// The PostgreSQL URL the replica tests use; scripts/test starts a temporary cluster and sets it.
func testPostgres() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["ASSETS_TEST_POSTGRES"], url.hasPrefix("postgresql://") else {
        throw ReplicaSetupError(
            description: "ASSETS_TEST_POSTGRES is not set: run scripts/test, which starts a temporary PostgreSQL")
    }
    return url
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

struct ReplicaSetupError: Error, CustomStringConvertible { var description: String }

func withReplicas(
    count: Int, extra: [[String]] = [], _ body: (ReplicaCluster) async throws -> Void
) async throws {
    try CLI.requireBinary()
    let base = try testPostgres()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let schema = "replicas_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
    let metadata = try TestMetadata.postgres(base, schema: String(schema)).redacted
    let token = "replica-token-" + UUID().uuidString.lowercased()
    let data = try scratch.folder("data")
    var replicas: [ReplicaCluster.Replica] = []
    defer { for replica in replicas { replica.process.kill(SIGTERM) } }
    for index in 0..<count {
        let arguments = [
            "serve", "--data", data, "--port", "0", "--token", token, "--metadata", metadata,
        ] + (index < extra.count ? extra[index] : [])
        let (process, url) = try await startServer(arguments)
        replicas.append(.init(process: process, url: url))
    }
    try await body(ReplicaCluster(replicas: replicas, token: token, base: base, schema: String(schema), scratch: scratch))
    for replica in replicas where replica.process.isRunning {
        replica.process.kill(SIGTERM)
        let outcome = await replica.process.wait()
        #expect(outcome.status == 0, "a replica stopped with \(outcome.status): \(outcome.stderr)")
    }
}

/// Starts `assets serve` and waits for its listening line (in a log file: CLI.Running reads stdout at the end).
func startServer(_ arguments: [String]) async throws -> (CLI.Running, URL) {
    let process = try CLI.start(arguments)
    for _ in 0..<600 {
        if let line = process.outputSoFar().split(separator: "\n").first(where: {
            $0.hasPrefix("assets serve: listening on ")
        }) {
            let text = line.dropFirst("assets serve: listening on ".count).prefix { $0 != "," }
            return (process, try #require(URL(string: String(text))))
        }
        guard process.isRunning else { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    process.kill()
    let outcome = await process.wait()
    throw ReplicaSetupError(description: "assets serve did not start: \(outcome.stderr)")
}

func download(_ url: URL, engine: TransferEngine) async throws -> Data {
    let response = try await engine.perform(HTTPRequest(method: .get, url: url))
    try response.validate()
    return response.body
}

/// The `id`s of a JSON export.
func exportedIDs(_ data: Data) -> Set<String> {
    let items = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
    return Set(items.compactMap { $0["id"] as? String })
}

/// Runs a program to its end off the cooperative pool; returns its status and standard output and error.
func capture(_ command: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: command[0])
                process.arguments = Array(command.dropFirst())
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}
