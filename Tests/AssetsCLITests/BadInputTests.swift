import Foundation
import Testing
import TestSupport

/// What a user sees when something is wrong: a clear message and the documented exit code.
@Suite("bad input and hostile servers")
struct BadInputTests {
    @Test("a wrong token exits 3 after one request, without a retry storm")
    func wrongToken() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("f")
            let outcome = try await CLI.run(["push", folder, "--database", fixture.database, "--url",
                                             fixture.server.url.absoluteString, "--state", fixture.scratch.path("s.sqlite")],
                                            environment: ["PIXIEBRIX_TOKEN": "not-the-token"])
            #expect(outcome.status == 3)
            #expect(outcome.stderr.contains("401"))
            #expect(!outcome.stderr.contains("not-the-token"))
        }
        try await withFakeServer(status: 401, body: #"{"detail": "Invalid token."}"#) { server in
            let outcome = try await CLI.run(["ls", "--database", UUID().uuidString.lowercased(), "--url",
                                             server.url.absoluteString], environment: ["PIXIEBRIX_TOKEN": "t"])
            #expect(outcome.status == 3)
            #expect(outcome.stderr.contains("Invalid token."))
            #expect(server.requests == 1)
        }
    }

    @Test("an unknown database exits 2 and names it; a malformed id is a usage error")
    func unknownDatabase() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("f")
            let missing = UUID().uuidString.lowercased()
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let outcome = try await CLI.run(["push", folder, "--database", missing, "--url", fixture.server.url.absoluteString,
                                             "--state", fixture.scratch.path("s.sqlite")], environment: environment)
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains(missing) && outcome.stderr.contains("not found"))
            let malformed = try await CLI.run(["pull", folder, "--database", "nope", "--url",
                                               fixture.server.url.absoluteString], environment: environment)
            #expect(malformed.status == 2)
            #expect(malformed.stderr.contains("--database nope"))
        }
    }

    @Test("pull --follow refuses --delete before any request, naming both")
    func followRefusesDelete() async throws {
        try await withFakeServer(status: 500, body: "{}") { server in
            let outcome = try await CLI.run(["pull", FileManager.default.temporaryDirectory.path, "--database",
                                             UUID().uuidString.lowercased(), "--url", server.url.absoluteString,
                                             "--follow", "--delete"],
                                            environment: ["PIXIEBRIX_TOKEN": "t"])
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains("--delete and --follow cannot go together"))
            #expect(server.requests == 0)
        }
    }

    @Test("no token, or plain http to another host, is a configuration error before any request")
    func configurationErrors() async throws {
        let database = UUID().uuidString.lowercased()
        let noToken = try await CLI.run(["ls", "--database", database, "--url", "http://127.0.0.1:9"])
        #expect(noToken.status == 2)
        #expect(noToken.stderr.contains("PIXIEBRIX_TOKEN"))
        let insecure = try await CLI.run(["ls", "--database", database, "--url", "http://example.com"],
                                         environment: ["PIXIEBRIX_TOKEN": "secret-token"])
        #expect(insecure.status == 2)
        #expect(insecure.stderr.contains("--allow-insecure"))
        #expect(!insecure.stderr.contains("secret-token"))
    }

    @Test("an unreadable file fails alone, named in the message; the other file is uploaded; exit 1")
    func unreadableFile() async throws {
        try await withFixture { fixture in
            let work = try fixture.scratch.folder("work")
            let source = try fixture.scratch.folder("work/source")
            try write(Data("fine".utf8), to: source + "/fine.txt")
            try write(Data("locked".utf8), to: source + "/locked.txt")
            chmod(source + "/locked.txt", 0)
            // Root reads whatever the mode says: run the binary as nobody, who owns everything here but may not
            // read a mode-0 file.
            var prefix: [String] = []
            if getuid() == 0 {
                let nobody: UInt32 = 65534
                for path in [work, source, source + "/fine.txt", source + "/locked.txt"] {
                    #expect(chown(path, nobody, nobody) == 0, "chown \(path)")
                }
                prefix = ["/usr/bin/setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups"]
                try #require(FileManager.default.isExecutableFile(atPath: prefix[0]),
                             "running as root, this test needs setpriv (util-linux) to drop privileges")
            }
            // The case must be arranged: the file really is unreadable to the user who runs the push.
            let probe = try await CLI.runProgram((prefix.isEmpty ? ["/bin/cat"] : prefix + ["/bin/cat"]) + [source + "/locked.txt"])
            try #require(probe != 0, "locked.txt is readable by the user under test: the case cannot be arranged")

            let outcome = try await CLI.run(["push", source, "--database", fixture.database, "--url",
                                             fixture.server.url.absoluteString, "--state", work + "/state.sqlite"],
                                            environment: ["PIXIEBRIX_TOKEN": fixture.server.token, "XDG_CONFIG_HOME": work],
                                            prefix: prefix)
            #expect(outcome.status == 1, "\(outcome.stderr)")
            #expect(outcome.stderr.contains("locked.txt"), "\(outcome.stderr)")
            let uploaded = try await fixture.uploadedAssets()
            #expect(uploaded["fine.txt"]?.count == 1)
            #expect(uploaded["locked.txt"] == nil)
        }
    }

    @Test("an unreachable server exits 4")
    func unreachable() async throws {
        // Port 9 (discard) on loopback: nothing listens there.
        let outcome = try await CLI.run(["ls", "--database", UUID().uuidString.lowercased(), "--url", "http://127.0.0.1:9"],
                                        environment: ["PIXIEBRIX_TOKEN": "t"])
        #expect(outcome.status == 4)
        #expect(outcome.stderr.contains("127.0.0.1:9"))
    }

    @Test("malformed JSON from the server is a clear error, not a crash")
    func malformedJSON() async throws {
        try await withFakeServer(status: 200, body: #"{"id": "#) { server in
            let outcome = try await CLI.run(["ls", "--database", UUID().uuidString.lowercased(), "--url",
                                             server.url.absoluteString], environment: ["PIXIEBRIX_TOKEN": "t"])
            #expect(outcome.status == 1)
            #expect(outcome.stderr.contains("not the expected JSON"))
            #expect(!outcome.signalled)
        }
    }
}

@Suite("push and pull from the command line")
struct CommandLineSyncTests {
    @Test("a file that cannot be pushed fails alone with its reason; the run exits 1; status lists it")
    func partialFailureExitsOne() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("f")
            try write(Data("ok".utf8), to: folder + "/ok.txt")
            let longName = String(repeating: "x", count: 300) + ".txt"
            try write(Data("long".utf8), to: folder + "/" + String(repeating: "x", count: 200) + "/" + longName.dropFirst(200))
            let common = ["--database", fixture.database, "--url", fixture.server.url.absoluteString,
                          "--state", fixture.scratch.path("s.sqlite")]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let push = try await CLI.run(["push", folder] + common, environment: environment)
            #expect(push.status == 1)
            #expect(push.stderr.contains("255"))
            #expect(try await fixture.uploadedAssets().keys.sorted() == ["ok.txt"])
            let status = try await CLI.run(["status", folder] + common, environment: environment)
            #expect(status.status == 0)
            #expect(status.stdout.contains("failed 1"))
            #expect(status.stdout.contains("255"))
        }
    }

    @Test("--dry-run prints the plan and creates nothing; --json prints one event per line")
    func dryRunAndJSON() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("f")
            for name in ["a.txt", "b/c.txt"] { try write(Data(name.utf8), to: folder + "/" + name) }
            let common = ["--database", fixture.database, "--url", fixture.server.url.absoluteString,
                          "--state", fixture.scratch.path("s.sqlite")]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let dry = try await CLI.run(["push", folder, "--dry-run"] + common, environment: environment)
            #expect(dry.status == 0)
            #expect(dry.stdout.contains("upload  a.txt") && dry.stdout.contains("upload  b/c.txt"))
            #expect(try await fixture.client.assets(database: fixture.database).isEmpty)

            let push = try await CLI.run(["push", folder, "--json"] + common, environment: environment)
            #expect(push.status == 0)
            let events = try push.stdout.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            #expect(events.first?["event"] as? String == "planned")
            #expect(events.filter { $0["event"] as? String == "done" }.count == 2)
            let summary = try #require(events.last)
            #expect(summary["event"] as? String == "summary")
            #expect(summary["done"] as? Int == 2)
        }
    }
}
