import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport

/// Push does not follow symbolic links unless asked, and then only to targets inside the folder.
@Suite("push and symbolic links")
struct PushSymlinkTests {
    /// A folder with a real file, a link to it, a link to a file outside, a link to a folder outside, a link to a
    /// folder inside and a dangling link; the outside folder holds a secret.
    static func makeTree(_ fixture: Fixture) throws -> (folder: String, outside: String) {
        let outside = try fixture.scratch.folder("outside")
        try write(Data("secret\n".utf8), to: outside + "/secret.txt")
        let folder = try fixture.scratch.folder("drop")
        try write(Data("real\n".utf8), to: folder + "/real.txt")
        try write(Data("nested\n".utf8), to: folder + "/inner/nested.txt")
        let manager = FileManager.default
        try manager.createSymbolicLink(atPath: folder + "/inside-link.txt", withDestinationPath: "real.txt")
        try manager.createSymbolicLink(atPath: folder + "/outside-link.txt", withDestinationPath: outside + "/secret.txt")
        try manager.createSymbolicLink(atPath: folder + "/outside-folder", withDestinationPath: outside)
        try manager.createSymbolicLink(atPath: folder + "/inner-alias", withDestinationPath: "inner")
        try manager.createSymbolicLink(atPath: folder + "/sneaky-dotdot", withDestinationPath: "inner/../../outside/secret.txt")
        try manager.createSymbolicLink(atPath: folder + "/dangling", withDestinationPath: folder + "/nothing-here")
        return (folder, outside)
    }

    static let links = ["inside-link.txt", "outside-link.txt", "outside-folder", "inner-alias", "sneaky-dotdot", "dangling"]

    @Test("by default every link is skipped and reported once; only regular files are uploaded")
    func linksSkippedByDefault() async throws {
        try await withFixture { fixture in
            let (folder, _) = try Self.makeTree(fixture)
            let reporter = CollectingReporter()
            var pusher = fixture.pusher(folder, store: try fixture.store())
            pusher.reporter = reporter

            let summary = try await pusher.push()

            #expect(summary.failed == 0)
            let uploaded = try await fixture.uploadedAssets()
            #expect(Set(uploaded.keys) == ["real.txt", "inner/nested.txt"])
            let notices = reporter.notices
            for link in Self.links {
                #expect(notices.filter { $0.hasPrefix("skipped \(link):") }.count == 1, "one notice for \(link): \(notices)")
            }
        }
    }

    @Test("--follow-symlinks follows links that stay inside the folder, and still skips those that lead outside")
    func followInsideOnly() async throws {
        try await withFixture { fixture in
            let (folder, _) = try Self.makeTree(fixture)
            let reporter = CollectingReporter()
            var options = PushOptions()
            options.followSymlinks = true
            var pusher = fixture.pusher(folder, store: try fixture.store(), options: options)
            pusher.reporter = reporter

            let summary = try await pusher.push()

            #expect(summary.failed == 0)
            let uploaded = try await fixture.uploadedAssets()
            #expect(Set(uploaded.keys) == ["real.txt", "inner/nested.txt", "inside-link.txt", "inner-alias/nested.txt"])
            // What was uploaded under the link's name is the target's content (pulled back and compared).
            let target = try fixture.scratch.folder("pulled")
            let pulled = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()
            #expect(pulled.failed == 0)
            #expect(try String(contentsOfFile: target + "/inside-link.txt", encoding: .utf8) == "real\n")
            #expect(try String(contentsOfFile: target + "/inner-alias/nested.txt", encoding: .utf8) == "nested\n")
            #expect(try !treeDigest(target).keys.contains { $0.contains("secret") })
            let notices = reporter.notices
            for link in ["outside-link.txt", "outside-folder", "sneaky-dotdot", "dangling"] {
                #expect(notices.filter { $0.hasPrefix("skipped \(link):") }.count == 1, "one notice for \(link): \(notices)")
            }
            #expect(!notices.contains { $0.hasPrefix("skipped inside-link.txt") || $0.hasPrefix("skipped inner-alias") })
        }
    }

    @Test("a link loop inside the folder is walked once, not forever")
    func linkLoop() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let folder = try scratch.folder("tree")
        try write(Data("x".utf8), to: folder + "/a/x.txt")
        try FileManager.default.createSymbolicLink(atPath: folder + "/a/back", withDestinationPath: "..")
        let result = try LocalScanner(root: folder, rules: IgnoreRules(), followLinks: true).scan()
        #expect(result.files.map(\.path) == ["a/x.txt"])
        #expect(result.skippedLinks.map(\.path).contains("a/back"))
    }
}
