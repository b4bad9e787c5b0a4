import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

/// `assets serve --metadata postgresql://…?sslmode=require`: TLS to a PostgreSQL that offers it (a cluster of its
/// own, started with scripts/lib/postgres.sh's TEST_POSTGRES_SSL=1), and a clear stop against one that does not
/// (`ASSETS_TEST_POSTGRES`, which scripts/test starts without TLS).
@Suite("assets serve --metadata …?sslmode=require", .serialized)
struct ServeMetadataTLSTests {
    @Test("against a PostgreSQL with ssl=on and a self-signed certificate: the server works, each connection is TLS")
    func requireOverTLS() async throws {
        try CLI.requireBinary()
        try await withTLSPostgres { base in
            // A role of the server's own, so that pg_stat_ssl tells its connections from psql's.
            _ = try await psql(base, "CREATE ROLE tls_server LOGIN; GRANT CREATE ON DATABASE postgres TO tls_server")
            var components = try #require(URLComponents(string: base))
            components.user = "tls_server"
            components.query = "schema=tls&sslmode=require"
            let scratch = try Scratch()
            defer { scratch.remove() }
            let token = "tls-token-" + UUID().uuidString.lowercased()
            let (server, url) = try await startServer([
                "serve", "--data", scratch.path("data"), "--port", "0", "--token", token,
                "--metadata", try #require(components.string),
            ])
            defer { if server.isRunning { server.kill() } }
            #expect(server.outputSoFar().contains("sslmode=require"), "the banner names the TLS mode")
            try await withTransferEngine { engine in
                let client = try PixieBrixClient(baseURL: url, token: APIToken(token)!, engine: engine)
                let created = try await client.createDatabase(name: "over TLS")
                #expect(try await client.databases().map(\.id).contains(created.id))
            }
            #expect(try await psql(base, "SELECT name FROM tls.databases") == ["over TLS"])
            let connections = try await psql(
                base, "SELECT ssl FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = 'tls_server'")
            #expect(!connections.isEmpty, "the server holds connections to PostgreSQL")
            #expect(connections.allSatisfy { $0 == "t" }, "pg_stat_ssl.ssl of the server's connections: \(connections)")
            server.kill(SIGTERM)
            let outcome = await server.wait()
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
    }

    @Test("against a PostgreSQL without TLS: exit 1 (not a wait forever) naming sslmode=require and TLS, no password")
    func requireWithoutTLS() async throws {
        let base = try testPostgres()
        try #require(try await psql(base, "SHOW ssl") == ["off"], "this case needs ASSETS_TEST_POSTGRES without TLS")
        var components = try #require(URLComponents(string: base))
        components.password = "hunter2secret"
        components.query = "sslmode=require"
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try CLI.start([
            "serve", "--data", scratch.path("data"), "--port", "0", "--metadata", try #require(components.string),
        ])
        // A guard against hanging, not a timing assertion: the pool would retry a refused TLS request forever.
        for _ in 0..<1200 where server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let stillRunning = server.isRunning
        if stillRunning { server.kill() }
        let outcome = await server.wait()
        #expect(!stillRunning, "assets serve was still running after a minute: \(outcome.stderr)")
        #expect(outcome.status == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("sslmode=require"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("TLS"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("listening on"), "\(outcome.stdout)")
        #expect(!(outcome.stderr + outcome.stdout).contains("hunter2secret"))
    }
}

/// Rows of a one-column query, through `psql` (which itself uses TLS when the server offers it).
func psql(_ url: String, _ query: String) async throws -> [String] {
    let outcome = try await capture(["/usr/bin/psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", query])
    guard outcome.status == 0 else { throw ReplicaSetupError(description: "psql \(query): \(outcome.output)") }
    return outcome.output.split(separator: "\n").map(String.init)
}

/// A temporary PostgreSQL cluster with ssl=on (scripts/lib/postgres.sh), stopped and removed after `body`.
func withTLSPostgres(_ body: (String) async throws -> Void) async throws {
    let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/lib").path
    let started = try await capture([
        "/bin/bash", "-c",
        // Foundation's Process sees its child end when a socket the child inherits closes: the PostgreSQL daemon
        // must not keep it open, so every descriptor past stderr is closed before the cluster starts.
        #"""
        for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null
        source "$0/common.sh" && source "$0/postgres.sh" || exit 2
        TEST_POSTGRES_SSL=1 start_test_postgres || exit 1
        echo "CLUSTER $TEST_POSTGRES_URL $TEST_POSTGRES_DIR $TEST_POSTGRES_BIN"
        """#, scripts,
    ])
    guard started.status == 0,
        let line = started.output.split(separator: "\n").last(where: { $0.hasPrefix("CLUSTER ") }),
        case let fields = line.split(separator: " ").map(String.init), fields.count == 4
    else { throw ReplicaSetupError(description: "the TLS PostgreSQL did not start: \(started.output)") }
    let stop = {
        _ = try? await capture([
            "/bin/bash", "-c",
            #"source "$0/common.sh" && source "$0/postgres.sh" && TEST_POSTGRES_DIR=$1 TEST_POSTGRES_BIN=$2 stop_test_postgres"#,
            scripts, fields[2], fields[3],
        ])
    }
    do {
        try await body(fields[1])
    } catch {
        await stop()
        throw error
    }
    await stop()
}
