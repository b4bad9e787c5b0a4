import AssetSync
import Foundation
import GRDB
import PixieBrix
import Testing
import TestSupport
import Transfer

/// `pull --delete`, `push --delete` and `assets restore` (issue 15) run as a user would, against `assets serve`.
@Suite("pull --delete, push --delete, restore (the built binary)", .serialized)
struct MirrorCLITests {
    static func files(_ root: String) throws -> [String: String] {
        try treeDigest(root).filter { !$0.key.hasSuffix(".part") }
    }

    @Test("pull --delete removes exactly the pulled files whose assets were withdrawn; --dry-run changes nothing")
    func pullDelete() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let url = fixture.server.url.absoluteString
            let source = try fixture.scratch.folder("source")
            for name in ["a.txt", "b.txt", "c.txt", "sub/d.txt", "e.txt"] { try write(Data("\(name)\n".utf8), to: source + "/" + name) }
            #expect(try await CLI.run(["push", source, "--database", fixture.database, "--url", url,
                                       "--state", fixture.scratch.path("source.sqlite")], environment: environment).status == 0)

            let mirror = try fixture.scratch.folder("mirror")
            // c.txt is already there, identical: the pull adopts it but did not write it.
            try write(Data("c.txt\n".utf8), to: mirror + "/c.txt")
            let common = [mirror, "--database", fixture.database, "--url", url, "--state", fixture.scratch.path("mirror.sqlite")]
            let first = try await CLI.run(["pull"] + common, environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            try write(Data("mine\n".utf8), to: mirror + "/local-only.txt")
            try write(Data("edited after the pull\n".utf8), to: mirror + "/e.txt")

            let assets = try await fixture.uploadedAssets()
            for name in ["b.txt", "c.txt", "sub/d.txt", "e.txt"] {
                try await fixture.client.withdrawAsset(database: fixture.database, id: try #require(assets[name]?.first).id)
            }
            let before = try Self.files(mirror)

            let dryRun = try await CLI.run(["pull"] + common + ["--delete", "--dry-run"], environment: environment)
            #expect(dryRun.status == 0, "\(dryRun.stderr)")
            #expect(dryRun.stdout.contains("would delete  b.txt"), "\(dryRun.stdout)")
            #expect(dryRun.stdout.contains("would delete  sub/d.txt"), "\(dryRun.stdout)")
            #expect(dryRun.stdout.contains("2 would be removed"), "\(dryRun.stdout)")
            #expect(try Self.files(mirror) == before)

            let run = try await CLI.run(["pull"] + common + ["--delete", "--json"], environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            let deleted = run.stdout.split(separator: "\n").filter { $0.contains(#""event":"deleted""#) }
            #expect(deleted.count == 2, "\(run.stdout)")
            #expect(run.stdout.contains(#""event":"delete-kept","path":"e.txt","reason":"changed since the pull wrote it""#),
                    "\(run.stdout)")
            var expected = before
            expected["b.txt"] = nil
            expected["sub/d.txt"] = nil
            #expect(try Self.files(mirror) == expected)
            #expect(Set(expected.keys) == ["a.txt", "c.txt", "e.txt", "local-only.txt"])

            // Withdrawn ones are forgotten: a second run removes nothing more.
            let again = try await CLI.run(["pull"] + common + ["--delete"], environment: environment)
            #expect(again.status == 0)
            #expect(again.stdout.contains("0 removed"), "\(again.stdout)")
            #expect(try Self.files(mirror) == expected)
        }
    }

    @Test("pull --delete keeps what the filters leave out and entries from before the manifest said who wrote them")
    func pullDeleteKeepsFilteredAndLegacy() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let url = fixture.server.url.absoluteString
            let source = try fixture.scratch.folder("source")
            for name in ["keep.txt", "skip.log", "legacy.txt", "go.txt"] { try write(Data("\(name)\n".utf8), to: source + "/" + name) }
            #expect(try await CLI.run(["push", source, "--database", fixture.database, "--url", url,
                                       "--state", fixture.scratch.path("source.sqlite")], environment: environment).status == 0)
            let mirror = try fixture.scratch.folder("mirror")
            let state = fixture.scratch.path("mirror.sqlite")
            let common = [mirror, "--database", fixture.database, "--url", url, "--state", state]
            #expect(try await CLI.run(["pull"] + common, environment: environment).status == 0)
            // As a state file written before the manifest recorded origins would have it.
            let queue = try DatabaseQueue(path: state)
            try await queue.write { db in try db.execute(sql: "UPDATE manifest SET origin = NULL WHERE path = 'legacy.txt'") }

            let assets = try await fixture.uploadedAssets()
            for name in ["skip.log", "legacy.txt", "go.txt"] {
                try await fixture.client.withdrawAsset(database: fixture.database, id: try #require(assets[name]?.first).id)
            }
            let run = try await CLI.run(["pull"] + common + ["--delete", "--exclude", "*.log"], environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("deleted  go.txt"), "\(run.stdout)")
            #expect(run.stdout.contains("1 removed"), "\(run.stdout)")
            #expect(try Self.files(mirror).keys.sorted() == ["keep.txt", "legacy.txt", "skip.log"])
        }
    }

    @Test("pull --delete removes nothing, and says why, after a failed download")
    func pullDeleteRefusesAfterFailure() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let url = fixture.server.url.absoluteString
            let source = try fixture.scratch.folder("source")
            try write(Data("gone soon\n".utf8), to: source + "/old.txt")
            let sourceState = fixture.scratch.path("source.sqlite")
            #expect(try await CLI.run(["push", source, "--database", fixture.database, "--url", url, "--state", sourceState],
                                      environment: environment).status == 0)
            let mirror = try fixture.scratch.folder("mirror")
            let common = [mirror, "--database", fixture.database, "--url", url, "--state", fixture.scratch.path("mirror.sqlite")]
            #expect(try await CLI.run(["pull"] + common, environment: environment).status == 0)

            try write(Data("new\n".utf8), to: source + "/new.txt")
            #expect(try await CLI.run(["push", source, "--database", fixture.database, "--url", url, "--state", sourceState],
                                      environment: environment).status == 0)
            let old = try #require(try await fixture.uploadedAssets()["old.txt"]?.first)
            try await fixture.client.withdrawAsset(database: fixture.database, id: old.id)
            try await withTransferEngine { engine in
                try await setFaults("download.rate500=1", server: fixture.server, engine: engine)
            }

            let run = try await CLI.run(["pull"] + common + ["--delete", "--retries", "0"], environment: environment)
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.contains("--delete: nothing removed: 1 file(s) failed"), "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: mirror + "/old.txt"))

            try await withTransferEngine { engine in try await setFaults("", server: fixture.server, engine: engine) }
            let healed = try await CLI.run(["pull"] + common + ["--delete"], environment: environment)
            #expect(healed.status == 0, "\(healed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: mirror + "/old.txt"))
            #expect(try Self.files(mirror).keys.sorted() == ["new.txt"])
        }
    }

    @Test("pull --delete removes nothing, and says why, when the listing's second page fails")
    func pullDeleteRefusesPartialListing() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let source = try fixture.scratch.folder("source")
            try write(Data("kept\n".utf8), to: source + "/kept.txt")
            #expect(try await CLI.run(["push", source, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                                       "--state", fixture.scratch.path("source.sqlite")], environment: environment).status == 0)
            let mirror = try fixture.scratch.folder("mirror")
            let state = fixture.scratch.path("mirror.sqlite")
            #expect(try await CLI.run(["pull", mirror, "--database", fixture.database, "--url",
                                       fixture.server.url.absoluteString, "--state", state], environment: environment).status == 0)
            #expect(FileManager.default.fileExists(atPath: mirror + "/kept.txt"))

            // The same state file against a server whose listing breaks after a first, empty page: kept.txt is
            // missing from what was read, but the listing is not whole.
            try await withBrokenListingServer(database: fixture.database) { url in
                let run = try await CLI.run(["pull", mirror, "--database", fixture.database, "--url", url.absoluteString,
                                             "--state", state, "--delete", "--retries", "0"],
                                            environment: ["PIXIEBRIX_TOKEN": "0123456789abcdef"])
                #expect(run.status != 0)
                #expect(run.stderr.contains("--delete: nothing removed: the run stopped before the listing was read whole"),
                        "\(run.stderr)")
            }
            #expect(FileManager.default.fileExists(atPath: mirror + "/kept.txt"))
        }
    }

    @Test("push --delete withdraws what this folder pushed and removed; a mirror loses it; restore brings it back")
    func pushDeleteAndRestore() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let url = fixture.server.url.absoluteString
            let source = try fixture.scratch.folder("source")
            for name in ["a.txt", "b.txt", "shared.txt", "sub/gone.txt"] {
                try write(Data("\(name) from source\n".utf8), to: source + "/" + name)
            }
            let sourceState = fixture.scratch.path("source.sqlite")
            let common = [source, "--database", fixture.database, "--url", url, "--state", sourceState]
            #expect(try await CLI.run(["push"] + common, environment: environment).status == 0)

            // Another folder pushes x.txt and a newer shared.txt.
            let other = try fixture.scratch.folder("other")
            try write(Data("x from other\n".utf8), to: other + "/x.txt")
            try write(Data("shared from other\n".utf8), to: other + "/shared.txt")
            #expect(try await CLI.run(["push", other, "--database", fixture.database, "--url", url,
                                       "--state", fixture.scratch.path("other.sqlite")], environment: environment).status == 0)
            let before = try await fixture.uploadedAssets()

            for name in ["a.txt", "shared.txt", "sub/gone.txt"] { try FileManager.default.removeItem(atPath: source + "/" + name) }
            let dryRun = try await CLI.run(["push"] + common + ["--delete", "--dry-run"], environment: environment)
            #expect(dryRun.status == 0, "\(dryRun.stderr)")
            #expect(dryRun.stdout.contains("would withdraw  a.txt"), "\(dryRun.stdout)")
            #expect(dryRun.stdout.contains("would withdraw  sub/gone.txt"), "\(dryRun.stdout)")
            #expect(dryRun.stdout.contains("2 would be withdrawn"), "\(dryRun.stdout)")
            #expect(try await fixture.uploadedAssets() == before)

            let run = try await CLI.run(["push"] + common + ["--delete"], environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("2 withdrawn"), "\(run.stdout)")
            #expect(run.stderr.contains("--delete: kept shared.txt: the newest uploaded asset of that name"), "\(run.stderr)")
            let after = try await fixture.uploadedAssets()
            #expect(Set(after.keys) == ["b.txt", "shared.txt", "x.txt"])
            #expect(after["shared.txt"]?.count == 2, "an asset of shared.txt was withdrawn")
            #expect(after["shared.txt"] == before["shared.txt"])
            #expect(after["x.txt"] == before["x.txt"] && after["b.txt"] == before["b.txt"])
            let withdrawnA = try #require(before["a.txt"]?.first)
            #expect(try await fixture.client.asset(database: fixture.database, id: withdrawnA.id).isUploaded == false)

            let mirror = try fixture.scratch.folder("mirror")
            let mirrorCommon = [mirror, "--database", fixture.database, "--url", url,
                                "--state", fixture.scratch.path("mirror.sqlite")]
            #expect(try await CLI.run(["pull"] + mirrorCommon, environment: environment).status == 0)
            #expect(try Self.files(mirror).keys.sorted() == ["b.txt", "shared.txt", "x.txt"])
            #expect(try String(contentsOfFile: mirror + "/shared.txt", encoding: .utf8) == "shared from other\n")

            let restore = try await CLI.run(["restore", "a.txt", source, "--database", fixture.database, "--url", url,
                                             "--state", sourceState], environment: environment)
            #expect(restore.status == 0, "\(restore.stderr)")
            #expect(restore.stdout.contains("restored a.txt: asset \(withdrawnA.id)"), "\(restore.stdout)")
            #expect(restore.stdout.contains("(matches what was pushed)"))
            #expect(try await CLI.run(["pull"] + mirrorCommon, environment: environment).status == 0)
            #expect(try String(contentsOfFile: mirror + "/a.txt", encoding: .utf8) == "a.txt from source\n")

            // Nothing left to restore for a.txt; a second push --delete withdraws nothing more.
            let twice = try await CLI.run(["restore", "a.txt", source, "--database", fixture.database, "--url", url,
                                           "--state", sourceState], environment: environment)
            #expect(twice.status == 1)
            #expect(twice.stderr.contains("no withdrawal of a.txt is recorded"), "\(twice.stderr)")
            let second = try await CLI.run(["push"] + common + ["--delete"], environment: environment)
            #expect(second.status == 0)
            #expect(second.stdout.contains("0 withdrawn"), "\(second.stdout)")
            #expect(Set(try await fixture.uploadedAssets().keys) == ["a.txt", "b.txt", "shared.txt", "x.txt"])
        }
    }

    @Test("push --delete withdraws nothing, and says why, after a failed upload")
    func pushDeleteRefusesAfterFailure() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let source = try fixture.scratch.folder("source")
            try write(Data("old\n".utf8), to: source + "/old.txt")
            let common = [source, "--database", fixture.database, "--url", fixture.server.url.absoluteString,
                          "--state", fixture.scratch.path("source.sqlite")]
            #expect(try await CLI.run(["push"] + common, environment: environment).status == 0)
            try FileManager.default.removeItem(atPath: source + "/old.txt")
            try write(Data("new\n".utf8), to: source + "/new.txt")
            try await withTransferEngine { engine in
                try await setFaults("upload.rate500=1", server: fixture.server, engine: engine)
            }
            let run = try await CLI.run(["push"] + common + ["--delete", "--retries", "0"], environment: environment)
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.contains("--delete: nothing withdrawn: 1 file(s) failed"), "\(run.stderr)")
            #expect(try await fixture.uploadedAssets().keys.sorted() == ["old.txt"])
        }
    }

    @Test("restore --asset without a folder: a withdrawn asset comes back; a wrong name or an object-less asset is refused")
    func restoreByAssetID() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let url = fixture.server.url.absoluteString
            let source = try fixture.scratch.folder("source")
            try write(Data("by id\n".utf8), to: source + "/by-id.txt")
            #expect(try await CLI.run(["push", source, "--database", fixture.database, "--url", url,
                                       "--state", fixture.scratch.path("source.sqlite")], environment: environment).status == 0)
            let asset = try #require(try await fixture.uploadedAssets()["by-id.txt"]?.first)
            try await fixture.client.withdrawAsset(database: fixture.database, id: asset.id)
            let common = ["--database", fixture.database, "--url", url]

            let noTarget = try await CLI.run(["restore", "by-id.txt"] + common, environment: environment)
            #expect(noTarget.status == 2, "\(noTarget.stderr)")
            let wrongName = try await CLI.run(["restore", "other.txt", "--asset", asset.id] + common, environment: environment)
            #expect(wrongName.status == 1)
            #expect(wrongName.stderr.contains("is named by-id.txt, not other.txt"), "\(wrongName.stderr)")
            #expect(try await fixture.client.asset(database: fixture.database, id: asset.id).isUploaded == false)

            let restored = try await CLI.run(["restore", "by-id.txt", "--asset", asset.id] + common, environment: environment)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(restored.stdout.contains("(no record to compare with)"), "\(restored.stdout)")
            #expect(try await fixture.client.asset(database: fixture.database, id: asset.id).isUploaded == true)

            // Created but never uploaded: storage holds nothing, and the server says so.
            let orphan = try await fixture.client.createAsset(database: fixture.database, filename: "never.txt")
            let refused = try await CLI.run(["restore", "never.txt", "--asset", orphan.asset.id] + common, environment: environment)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("storage no longer holds the bytes of asset \(orphan.asset.id)"), "\(refused.stderr)")
            #expect(try await fixture.client.asset(database: fixture.database, id: orphan.asset.id).isUploaded == false)
        }
    }

    @Test("restore withdraws again, and fails, when storage's object is not what the manifest recorded")
    func restoreRefusesMismatch() async throws {
        try await withFixture { fixture in
            let environment = ["PIXIEBRIX_TOKEN": fixture.server.token]
            let source = try fixture.scratch.folder("source")
            try write(Data("precious\n".utf8), to: source + "/p.txt")
            let state = fixture.scratch.path("source.sqlite")
            let common = [source, "--database", fixture.database, "--url", fixture.server.url.absoluteString, "--state", state]
            #expect(try await CLI.run(["push"] + common, environment: environment).status == 0)
            try FileManager.default.removeItem(atPath: source + "/p.txt")
            #expect(try await CLI.run(["push"] + common + ["--delete"], environment: environment).status == 0)
            let asset = try #require(try await fixture.client.assets(database: fixture.database).first)
            #expect(asset.isUploaded == false)

            // The record says other bytes were pushed than storage holds.
            let queue = try DatabaseQueue(path: state)
            try await queue.write { db in
                try db.execute(sql: "UPDATE withdrawals SET md5 = ?, etag = ? WHERE asset_id = ?",
                               arguments: [String(repeating: "0", count: 32), String(repeating: "0", count: 32), asset.id])
            }
            let restore = try await CLI.run(["restore", "p.txt", source, "--database", fixture.database, "--url",
                                             fixture.server.url.absoluteString, "--state", state], environment: environment)
            #expect(restore.status == 1)
            #expect(restore.stderr.contains("is not what was pushed"), "\(restore.stderr)")
            #expect(restore.stderr.contains("withdrawn again"))
            #expect(try await fixture.client.asset(database: fixture.database, id: asset.id).isUploaded == false)
        }
    }
}

