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

    @Test("nightly archiving every second on two replicas: one pass per interval across both, old dates archived once")
    func nightlyArchivingRunsOnce() async throws {
        // Each replica wakes every second; a pass may start only when none started in the last 9/10 of that.
        // A claim is held open 600 ms, so the other replica, waking tens of ms apart, tries to claim meanwhile:
        // only the advisory lock keeps it from a second pass (it cannot see the uncommitted claim).
        let options = ["--archive-interval", "1", "--max-live-records", "15", "--archive-claim-pause-ms", "600"]
        try await withReplicas(count: 2, extra: [options, options]) { cluster in
            let (a, b) = (cluster.replicas[0], cluster.replicas[1])
            try await withTransferEngine { engine in
                let clientA = try PixieBrixClient(baseURL: a.url, token: APIToken(cluster.token)!, engine: engine)
                let database = try await clientA.createDatabase(name: "nightly").id
                // Ten records on each of three dates, in one request: 30 is over the limit of 15, so a pass archives
                // 2024-01-01 and 2024-01-02 (20 records) and keeps 2024-01-03; later passes find nothing over it.
                let records = (0..<30).map { index -> [String: Any] in
                    let stamp = "2024-01-0\(index / 10 + 1)T12:00:00Z"
                    return ["id": "r\(index)", "data": ["n": index], "created_at": stamp, "updated_at": stamp]
                }
                try await cluster.seed(database: database, records: records, through: b, engine: engine)
                let passesBeforeSeeded = try await cluster.archivingPasses().count
                let passes = try await cluster.waitForArchivingPasses(atLeast: passesBeforeSeeded + 3)

                let starts = passes.map(\.startedAt).sorted()
                for (earlier, later) in zip(starts, starts.dropFirst()) {
                    #expect(later - earlier >= 900_000, "passes \(later - earlier) µs apart: \(passes)")
                }
                #expect(passes.compactMap(\.archivedRecords).reduce(0, +) == 20, "\(passes)")

                let archiveRows = try await cluster.sql(
                    "SELECT date FROM record_archives WHERE database_id = '\(database)' ORDER BY date")
                #expect(archiveRows == ["2024-01-01", "2024-01-02"])
                #expect(try await cluster.sql("SELECT num_records FROM databases WHERE id = '\(database)'") == ["10"])
                #expect(
                    Set(try await cluster.sql("SELECT id FROM records WHERE database_id = '\(database)'"))
                        == Set((20..<30).map { "r\($0)" }))
                let organization = try #require(
                    try await cluster.sql("SELECT value FROM meta WHERE key = 'organization_id'").first)
                let archives = try await clientA.recordArchives(organization: organization, database: database)
                #expect(archives.map(\.date) == ["2024-01-01", "2024-01-02"])
                for (archive, range) in zip(archives, [0..<10, 10..<20]) {
                    let lines = String(decoding: try await download(archive.file, engine: engine), as: UTF8.self)
                        .split(separator: "\n")
                    let ids = lines.compactMap {
                        (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String
                    }
                    #expect(ids.sorted() == range.map { "r\($0)" }.sorted(), "\(archive.date): \(lines)")
                }
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
        try await seed(database: database, records: records, through: replica, engine: engine)
    }

    /// `records` (`id`, `data`, optionally `created_at` and `updated_at`) seeded in one request.
    func seed(
        database: String, records: [[String: Any]], through replica: Replica, engine: TransferEngine
    ) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["database": database, "records": records])
        let request = HTTPRequest(
            method: .post, url: replica.url.appendingPathComponent("_admin/records"),
            headers: ["Authorization": "Token \(token)", "Content-Type": "application/json"], body: .data(body))
        try await engine.perform(request).validate()
    }
}

/// A row of `archiving_passes`: a nightly archiving pass that a replica claimed.
struct ArchivingPass: Sendable, CustomStringConvertible {
    var startedAt: Int64
    var replica: String
    var archivedRecords: Int?

    var description: String { "\(startedAt) \(replica) \(archivedRecords.map(String.init) ?? "-")" }
}

extension ReplicaCluster {
    /// Every pass recorded so far, oldest first.
    func archivingPasses() async throws -> [ArchivingPass] {
        try await sql("SELECT started_at, replica, archived_records FROM archiving_passes ORDER BY started_at").map {
            let fields = $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3, let startedAt = Int64(fields[0]) else {
                throw ReplicaSetupError(description: "archiving_passes row: \($0)")
            }
            return ArchivingPass(startedAt: startedAt, replica: fields[1], archivedRecords: Int(fields[2]))
        }
    }

    /// The passes once there are at least `count`; fails past two minutes (a loaded machine, not a slow rule).
    func waitForArchivingPasses(atLeast count: Int) async throws -> [ArchivingPass] {
        for _ in 0..<480 {
            let passes = try await archivingPasses()
            if passes.count >= count { return passes }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ReplicaSetupError(description: "fewer than \(count) archiving passes: \(try await archivingPasses())")
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
