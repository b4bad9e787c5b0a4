import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

/// `assets check` (issue 15) run as a user would, against `assets serve`.
@Suite("assets check (the built binary)", .serialized)
struct CheckCLITests {
    /// The statuses of a `check --json` run by path.
    static func statuses(_ stdout: String) throws -> [String: [String]] {
        var byStatus: [String: [String]] = [:]
        for line in stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard object["event"] as? String == "check" else { continue }
            byStatus[object["status"] as? String ?? "?", default: []].append(object["path"] as? String ?? "?")
        }
        return byStatus.mapValues { $0.sorted() }
    }

    static func summary(_ stdout: String) throws -> [String: Any] {
        let line = try #require(stdout.split(separator: "\n").last { $0.contains(#""event":"check-summary""#) })
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("a pushed folder agrees: exit 0, from the manifest with the state file and from ETags without it")
    func agrees() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("photos")
            try write(Data("alpha\n".utf8), to: folder + "/a.txt")
            try write(pseudoRandomBytes(70_000, seed: 3), to: folder + "/sub/big.bin")
            try write(Data(), to: folder + "/empty.txt")
            try write(Data("never pushed\n".utf8), to: folder + "/.hidden")
            let state = fixture.scratch.path("photos.sqlite")
            let common = [folder, "--database", fixture.database, "--url", fixture.server.url.absoluteString]
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let push = try await CLI.run(["push"] + common + ["--state", state], environment: environment)
            #expect(push.status == 0, "\(push.stderr)")

            let withManifest = try await CLI.run(["check"] + common + ["--state", state], environment: environment)
            #expect(withManifest.status == 0, "\(withManifest.stdout)\(withManifest.stderr)")
            #expect(withManifest.stdout.contains("3 matching, 0 only in the folder, 0 only in the database, 0 differing, 0 errors: they agree"),
                    "\(withManifest.stdout)")
            let manifestJSON = try await CLI.run(["check"] + common + ["--state", state, "--json"], environment: environment)
            #expect(try Self.summary(manifestJSON.stdout)["from_manifest"] as? Int == 3)

            let fromETags = try await CLI.run(["check"] + common + ["--state", fixture.scratch.path("none.sqlite"), "--json"],
                                              environment: environment)
            #expect(fromETags.status == 0, "\(fromETags.stderr)")
            #expect(try Self.statuses(fromETags.stdout) == ["matching": ["a.txt", "empty.txt", "sub/big.bin"]])
            #expect(try Self.summary(fromETags.stdout)["agree"] as? Bool == true)
            #expect(try Self.summary(fromETags.stdout)["from_manifest"] as? Int == 0)
            #expect(!FileManager.default.fileExists(atPath: fixture.scratch.path("none.sqlite")), "check made a state file")

            let downloaded = try await CLI.run(["check"] + common + ["--state", state, "--download", "--json"],
                                               environment: environment)
            #expect(downloaded.status == 0, "\(downloaded.stderr)")
            #expect(try Self.statuses(downloaded.stdout) == ["matching": ["a.txt", "empty.txt", "sub/big.bin"]])
            #expect(try Self.summary(downloaded.stdout)["downloaded"] as? Int == 3)
        }
    }

    @Test("a file changed, one only local, one removed locally, one added remotely: exit 1 and each in its list")
    func differs() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("photos")
            try write(Data("alpha\n".utf8), to: folder + "/a.txt")
            try write(Data("bravo\n".utf8), to: folder + "/b.txt")
            try write(Data("charlie\n".utf8), to: folder + "/c.txt")
            try write(Data("foxtrot\n".utf8), to: folder + "/sub/f.txt")
            let state = fixture.scratch.path("photos.sqlite")
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let url = fixture.server.url.absoluteString
            let common = [folder, "--database", fixture.database, "--url", url, "--state", state]
            #expect(try await CLI.run(["push"] + common, environment: environment).status == 0)

            let elsewhere = try fixture.scratch.folder("elsewhere")
            try write(Data("delta\n".utf8), to: elsewhere + "/d.txt")
            let other = try await CLI.run(["push", elsewhere, "--database", fixture.database, "--url", url,
                                           "--state", fixture.scratch.path("elsewhere.sqlite")], environment: environment)
            #expect(other.status == 0, "\(other.stderr)")

            try write(Data("ALPHA\n".utf8), to: folder + "/a.txt")  // same size, other bytes
            try FileManager.default.removeItem(atPath: folder + "/c.txt")
            try write(Data("echo\n".utf8), to: folder + "/e.txt")

            let combined = fixture.scratch.path("combined.txt")
            let check = try await CLI.run(["check"] + common + ["--json", "--combined", combined], environment: environment)
            #expect(check.status == 1, "\(check.stderr)")
            let statuses = try Self.statuses(check.stdout)
            #expect(statuses["only-local"] == ["e.txt"])
            #expect(statuses["only-remote"] == ["c.txt", "d.txt"])
            #expect(statuses["differing"] == ["a.txt"])
            #expect(statuses["matching"] == ["b.txt", "sub/f.txt"])
            #expect(statuses["error"] == nil)
            let summary = try Self.summary(check.stdout)
            #expect(summary["agree"] as? Bool == false)
            #expect(summary["differing"] as? Int == 1 && summary["only_remote"] as? Int == 2)
            let lines = try String(contentsOfFile: combined, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines == ["* a.txt", "= b.txt", "+ c.txt", "+ d.txt", "- e.txt", "= sub/f.txt"])

            let text = try await CLI.run(["check"] + common, environment: environment)
            #expect(text.status == 1)
            #expect(text.stdout.contains("only in the folder (1):\n  e.txt\n"), "\(text.stdout)")
            #expect(text.stdout.contains("only in the database (2):\n  c.txt\n  d.txt\n"), "\(text.stdout)")
            #expect(text.stdout.contains("differing (1):\n  a.txt  (MD5: local "), "\(text.stdout)")
            #expect(text.stdout.contains("2 matching, 1 only in the folder, 2 only in the database, 1 differing, 0 errors: they differ"))

            // One way: what is only in the database is not looked at.
            let oneWay = try await CLI.run(["check"] + common + ["--one-way", "--combined", "-"], environment: environment)
            #expect(oneWay.status == 1)
            #expect(oneWay.stdout.split(separator: "\n") == ["* a.txt", "= b.txt", "- e.txt", "= sub/f.txt"])

            // Filters apply to both sides, as they do to push.
            let filtered = try await CLI.run(["check"] + common + ["--exclude", "e.txt", "--exclude", "c.txt",
                                                                   "--exclude", "d.txt", "--json"], environment: environment)
            #expect(try Self.statuses(filtered.stdout) == ["differing": ["a.txt"], "matching": ["b.txt", "sub/f.txt"]])
            try write(Data("a.txt\ne.txt\nc.txt\nd.txt\n".utf8), to: folder + "/.assetsignore")
            let ignored = try await CLI.run(["check"] + common, environment: environment)
            #expect(ignored.status == 0, "\(ignored.stdout)")
        }
    }

    @Test(
        "--download catches a stored object whose bytes differ from its ETag; the ETag check cannot",
        .disabled(if: TestS3.isDefaultBlobStore, "corrupts the emulated storage under --data; S3 blobs are moto's"))
    func downloadCatchesCorruption() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("photos")
            try write(pseudoRandomBytes(300_000, seed: 9), to: folder + "/big.bin")
            try write(Data("small\n".utf8), to: folder + "/small.txt")
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let common = [folder, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                          "--state", fixture.scratch.path("photos.sqlite")]
            #expect(try await CLI.run(["push"] + common, environment: environment).status == 0)
            let asset = try #require(try await fixture.uploadedAssets()["big.bin"]?.first)
            try await withTransferEngine { engine in
                try await admin("corrupt", ["database": fixture.database, "asset": asset.id], server: fixture.server,
                                engine: engine)
            }

            let byETag = try await CLI.run(["check"] + common + ["--json"], environment: environment)
            #expect(byETag.status == 0, "the ETag still matches the file: \(byETag.stdout)")
            let byBytes = try await CLI.run(["check"] + common + ["--download", "--json"], environment: environment)
            #expect(byBytes.status == 1, "\(byBytes.stderr)")
            #expect(try Self.statuses(byBytes.stdout) == ["differing": ["big.bin"], "matching": ["small.txt"]])
            let line = try #require(byBytes.stdout.split(separator: "\n").first { $0.contains("big.bin") })
            #expect(line.contains("storage's ETag says"), "\(line)")
        }
    }

    @Test("a remote name with control characters is an error, printed escaped")
    func escapesServerNames() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("photos")
            try write(Data("ok\n".utf8), to: folder + "/ok.txt")
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let common = [folder, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                          "--state", fixture.scratch.path("photos.sqlite")]
            #expect(try await CLI.run(["push"] + common, environment: environment).status == 0)
            let payload = fixture.scratch.path("payload")
            try write(Data("x".utf8), to: payload)
            let created = try await fixture.client.createAsset(database: fixture.database, filename: "evil\u{1B}[2J\u{202E}.txt")
            _ = try await fixture.client.upload(created.post, file: payload, filename: "evil")
            try await fixture.client.markUploaded(database: fixture.database, id: created.asset.id)

            let check = try await CLI.run(["check"] + common, environment: environment)
            #expect(check.status == 1)
            #expect(!check.stdout.contains("\u{1B}") && !check.stdout.contains("\u{202E}"))
            #expect(check.stdout.contains(#"evil\u001b[2J\u202e.txt"#), "\(check.stdout)")
            #expect(check.stdout.contains("1 matching, 0 only in the folder, 0 only in the database, 0 differing, 1 errors"))
        }
    }
}
