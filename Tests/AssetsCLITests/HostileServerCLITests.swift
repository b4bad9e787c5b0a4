import Foundation
import PixieBrix
import Testing
import TestSupport

/// What the built binary does against a hostile server (issue 10): it fails fast with a message,
/// never crashes, and never lets the server's text drive the terminal.
@Suite("hostile servers, end to end")
struct HostileServerCLITests {
    /// Remote names built to steer a terminal: ESC/CSI, an OSC title ended by BEL, a C1 CSI, a bidi override.
    static let hostileNames = [
        "esc-\u{1B}[2J-clear.txt",
        "osc-\u{1B}]0;pwned\u{07}.txt",
        "c1-\u{9B}31m-red.txt",
        "bidi-\u{202E}txt.exe",
        "isolate-\u{2066}x\u{2069}.txt",
    ]

    /// Scalars that must never reach the terminal raw.
    static func unsafeScalars(_ text: String) -> [UInt32] {
        text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x0A: false
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }.map(\.value)
    }

    /// Runs `assets ls` against a local server that answers every API request `429` with `Retry-After: seconds`.
    func listThrottled(retryAfter seconds: String, extra: [String] = []) async throws -> CLI.Outcome {
        try await withFixture(faults: "rate429=1,retry_after=\(seconds)") { fixture in
            try await CLI.run(["ls", "--database", fixture.database, "--url", fixture.server.url.absoluteString] + extra,
                              environment: ["PIXIEBRIX_TOKEN": fixture.server.token])
        }
    }

    @Test("Retry-After: 2^63-1 makes the command fail at once with the server's demand, without a crash")
    func retryAfterMaxInt64() async throws {
        let outcome = try await listThrottled(retryAfter: "9223372036854775807")
        #expect(!outcome.signalled)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Retry-After: 9223372036854775807"))
        #expect(outcome.stderr.contains("--max-retry-wait"))
    }

    @Test("Retry-After of 11 minutes exceeds the default 10-minute cap; --max-retry-wait 0 refuses even 1 s")
    func retryAfterElevenMinutes() async throws {
        let outcome = try await listThrottled(retryAfter: "660")
        #expect(!outcome.signalled)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("wait 660 s"))
        let strict = try await listThrottled(retryAfter: "1", extra: ["--max-retry-wait", "0"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("more than the 0 s"))
        let invalid = try await CLI.run(["ls", "--database", UUID().uuidString.lowercased(), "--max-retry-wait", "soon"],
                                        environment: ["PIXIEBRIX_TOKEN": "t"])
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("--max-retry-wait soon"))
    }

    @Test("http://127.0.0.1.example.com is not this machine: the token is not sent over plain http")
    func loopbackLookalike() async throws {
        let outcome = try await CLI.run(["ls", "--database", UUID().uuidString.lowercased()],
                                        environment: ["PIXIEBRIX_TOKEN": "secret-token",
                                                      "PIXIEBRIX_URL": "http://127.0.0.1.example.com"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("refusing to send the token over plain http to 127.0.0.1.example.com"))
        #expect(!outcome.stderr.contains("secret-token"))
    }

    @Test("names with ESC, CSI, BEL, C1 and U+202E are escaped by ls, in text and in --json")
    func hostileNamesInList() async throws {
        try await withFixture { fixture in
            for name in Self.hostileNames { _ = try await fixture.client.createAsset(database: fixture.database, filename: name) }
            let arguments = ["ls", "--database", fixture.database, "--url", fixture.server.url.absoluteString]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let text = try await CLI.run(arguments, environment: environment)
            #expect(text.status == 0)
            #expect(Self.unsafeScalars(text.stdout + text.stderr).isEmpty)
            #expect(text.stdout.contains("esc-\\u001b[2J-clear.txt"))
            #expect(text.stdout.contains("bidi-\\u202etxt.exe"))
            #expect(text.stdout.contains("c1-\\u009b31m-red.txt"))

            let json = try await CLI.run(arguments + ["--json"], environment: environment)
            #expect(json.status == 0)
            #expect(Self.unsafeScalars(json.stdout + json.stderr).isEmpty)
            // Escaped as JSON escapes: every line still decodes to the server's exact name.
            let names = json.stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["filename"] as? String
            }
            #expect(Set(names) == Set(Self.hostileNames))
        }
    }

    @Test("names with ESC, CSI, BEL, C1 and U+202E are escaped by pull, in its plan and its refusals")
    func hostileNamesInPull() async throws {
        try await withFixture { fixture in
            for name in Self.hostileNames {
                let upload = try await fixture.client.createAsset(database: fixture.database, filename: name)
                let file = fixture.scratch.path("content.txt")
                try Data("x".utf8).write(to: URL(fileURLWithPath: file))
                _ = try await fixture.client.upload(upload.post, file: file, filename: "content.txt")
                _ = try await fixture.client.markUploaded(database: fixture.database, id: upload.asset.id)
            }
            let folder = try fixture.scratch.folder("pulled")
            let arguments = ["pull", folder, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                             "--state", fixture.scratch.path("s.sqlite")]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let plan = try await CLI.run(arguments + ["--dry-run"], environment: environment)
            #expect(!plan.signalled)
            #expect(Self.unsafeScalars(plan.stdout + plan.stderr).isEmpty)
            #expect((plan.stdout + plan.stderr).contains("bidi-\\u202etxt.exe"))
            #expect((plan.stdout + plan.stderr).contains("esc-"))

            let run = try await CLI.run(arguments + ["--verbose"], environment: environment)
            #expect(!run.signalled)
            #expect(Self.unsafeScalars(run.stdout + run.stderr).isEmpty)
            // The refusal of a name with C0 controls names it, escaped.
            #expect(run.stderr.contains("assets: esc-\\u001b[2J-clear.txt: unsafe remote filename"), "\(run.stderr)")
        }
    }

    @Test("an error detail with escape sequences reaches stderr escaped")
    func hostileErrorDetail() async throws {
        try await withFakeServer(status: 400, body: #"{"detail": "bad \u001b]0;owned\u0007 \u009b2J \u202e"}"#) { server in
            let outcome = try await CLI.run(["ls", "--database", UUID().uuidString.lowercased(), "--url",
                                             server.url.absoluteString], environment: ["PIXIEBRIX_TOKEN": "t"])
            #expect(outcome.status == 2)
            #expect(Self.unsafeScalars(outcome.stderr).isEmpty)
            #expect(outcome.stderr.contains("bad \\u001b]0;owned\\u0007"))
        }
    }
}
