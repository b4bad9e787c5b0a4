import Foundation
import PixieBrix
import Testing
import TestSupport

/// `--checksum` through the built binary: "changed" decided by MD5, the manifest as the cache of hashes.
/// Hashing is counted from the `-v` log line the binary writes each time it reads a file to compare.
@Suite("push and pull --checksum, the built binary", .serialized)
struct ChecksumCLITests {
    static func tree(_ root: String) throws {
        for index in 0..<6 { try write(pseudoRandomBytes(3000 + index, seed: UInt64(index)), to: root + "/f\(index).bin") }
        try write(pseudoRandomBytes(5000, seed: 77), to: root + "/sub/g.bin")
    }

    @Test("push --checksum: an untouched tree is not re-hashed; a file rewritten in place with its mtime set back is uploaded")
    func pushRewrittenInPlace() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("tree")
            try Self.tree(source)
            let first = try await cli.run("push", source, ["-v"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(try await cli.uploadedNames(fixture.database).count == 7)

            let untouched = try await cli.run("push", source, ["--checksum", "-v"])
            #expect(untouched.status == 0, "\(untouched.stderr)")
            #expect(hashedLines(untouched).isEmpty, "an untouched tree was hashed: \(hashedLines(untouched))")

            let rewritten = pseudoRandomBytes(3002, seed: 999)
            try rewriteInPlaceKeepingStamp(source + "/f2.bin", with: rewritten)
            // Size, modification time and inode cannot see it: the plain push finds nothing to do.
            let blind = try await cli.run("push", source, ["--dry-run"])
            #expect(blind.stdout.contains("0 to upload"), "\(blind.stdout)")

            let caught = try await cli.run("push", source, ["--checksum", "-v"])
            #expect(caught.status == 0, "\(caught.stderr)")
            #expect(hashedLines(caught).count == 1 && hashedLines(caught).first?.contains("f2.bin") == true,
                    "\(hashedLines(caught))")
            let f2 = try await fixture.uploadedAssets()["f2.bin"] ?? []
            #expect(f2.count == 2, "the rewritten file is uploaded again")
            let check = try fixture.scratch.folder("check")
            _ = try await fixture.puller(check, store: try fixture.store("check.sqlite")).pull()
            #expect(try Data(contentsOf: URL(fileURLWithPath: check + "/f2.bin")) == rewritten)

            let again = try await cli.run("push", source, ["--checksum", "-v"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(hashedLines(again).isEmpty, "after its upload the file's hash is cached: \(hashedLines(again))")
            #expect(try await fixture.uploadedAssets().values.map(\.count).reduce(0, +) == 8)
        }
    }

    @Test("push --checksum: a file only touched (same bytes) is hashed once, not uploaded, and then read from the cache")
    func pushTouched() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("tree")
            try Self.tree(source)
            #expect(try await cli.run("push", source).status == 0)
            try setMtime(source + "/sub/g.bin", secondsSince1970: Int(Date().timeIntervalSince1970) - 7200)

            let touched = try await cli.run("push", source, ["--checksum", "-v"])
            #expect(touched.status == 0, "\(touched.stderr)")
            #expect(hashedLines(touched).count == 1 && hashedLines(touched).first?.contains("sub/g.bin") == true,
                    "\(hashedLines(touched))")
            let again = try await cli.run("push", source, ["--checksum", "-v"])
            #expect(hashedLines(again).isEmpty, "\(hashedLines(again))")
            #expect(try await fixture.uploadedAssets().values.map(\.count).reduce(0, +) == 7, "nothing was uploaded twice")
        }
    }

    @Test("pull --checksum: a pulled file rewritten in place with its mtime set back is found; --overwrite restores it")
    func pullRewrittenInPlace() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("tree")
            try Self.tree(source)
            _ = try await fixture.pusher(source, store: try fixture.store("source.sqlite")).push()
            let target = try fixture.scratch.folder("out")
            let first = try await cli.run("pull", target)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(try treeDigest(target) == treeDigest(source))

            let untouched = try await cli.run("pull", target, ["--checksum", "-v"])
            #expect(untouched.status == 0, "\(untouched.stderr)")
            #expect(hashedLines(untouched).isEmpty, "\(hashedLines(untouched))")

            try rewriteInPlaceKeepingStamp(target + "/f4.bin", with: pseudoRandomBytes(3004, seed: 4444))
            let blind = try await cli.run("pull", target, ["--dry-run"])
            #expect(blind.stdout.contains("0 to download"), "\(blind.stdout)")

            let caught = try await cli.run("pull", target, ["--checksum", "-v"])
            #expect(caught.status == 1, "a changed local file is kept and reported: \(caught.stderr)")
            #expect(caught.stderr.contains("f4.bin") && caught.stderr.contains("--overwrite"), "\(caught.stderr)")
            #expect(hashedLines(caught).count == 1, "\(hashedLines(caught))")

            let restored = try await cli.run("pull", target, ["--checksum", "--overwrite"])
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try treeDigest(target) == treeDigest(source))
            let after = try await cli.run("pull", target, ["--checksum", "-v"])
            #expect(after.status == 0, "\(after.stderr)")
            #expect(hashedLines(after).isEmpty, "\(hashedLines(after))")
        }
    }

    @Test("pull --checksum: a new asset with the same bytes under a pulled name is not downloaded")
    func pullSameBytesNewAsset() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("tree")
            try Self.tree(source)
            _ = try await fixture.pusher(source, store: try fixture.store("source.sqlite")).push()
            let target = try fixture.scratch.folder("out")
            #expect(try await cli.run("pull", target).status == 0)
            // Touched, the same bytes are pushed again (a push without --checksum): a second asset named f1.bin.
            try setMtime(source + "/f1.bin", secondsSince1970: Int(Date().timeIntervalSince1970) - 600)
            _ = try await fixture.pusher(source, store: try fixture.store("source.sqlite")).push()
            #expect(try await fixture.uploadedAssets()["f1.bin"]?.count == 2)

            let plain = try await cli.run("pull", target, ["--dry-run"])
            #expect(plain.stdout.contains("download  f1.bin"), "\(plain.stdout)")
            let checked = try await cli.run("pull", target, ["--checksum", "--dry-run"])
            #expect(checked.stdout.contains("0 to download"), "\(checked.stdout)")
        }
    }
}
