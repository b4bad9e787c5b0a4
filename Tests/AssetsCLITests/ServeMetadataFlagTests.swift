import Foundation
import Testing
import TestSupport

/// `assets serve --metadata`: what it refuses, and what it says when the database cannot be reached.
@Suite("assets serve --metadata")
struct ServeMetadataFlagTests {
    @Test("an unknown scheme, a URL without a database, or an unknown parameter exits 2 (usage) naming --metadata",
          arguments: ["mysql://u@127.0.0.1/db", "postgresql://u@127.0.0.1:5432", "postgresql://u@h/db?pool=9"])
    func refusesBadURLs(_ url: String) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let outcome = try await CLI.run(["serve", "--data", scratch.path("data"), "--port", "0", "--metadata", url])
        #expect(outcome.status == 2, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("--metadata"), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("data/server.sqlite")))
    }

    @Test("a PostgreSQL that does not answer: exit 1 with the URL in the message, never its password")
    func unreachableDatabase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let outcome = try await CLI.run([
            "serve", "--data", scratch.path("data"), "--port", "0",
            "--metadata", "postgresql://assets:hunter2secret@127.0.0.1:1/assets",
        ])
        #expect(outcome.status == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("postgresql://assets@127.0.0.1:1/assets"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("hunter2secret"))
        #expect(!outcome.stdout.contains("hunter2secret"))
    }
}
