import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `records -o`, `export -o` and `archives pull` write through `FILE.part` without ever following a link there.
@Suite("outputs never write through a link")
struct OutputBoundaryTests {
    /// A file outside with known bytes, and a link to it planted at `link`.
    static func plant(_ link: String, fixture: Fixture) throws -> (outside: String, bytes: Data) {
        let outside = fixture.scratch.path("outside-\(UUID().uuidString.prefix(8))/precious.txt")
        let bytes = Data("precious bytes that must not change\n".utf8)
        try write(bytes, to: outside)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: outside)
        return (outside, bytes)
    }

    static func isLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    static func umaskNow() -> mode_t {
        let previous = umask(0o022)
        umask(previous)
        return previous
    }

    @Test("records -o FILE with FILE.part planted as a link: the link's target is byte-identical, FILE is written")
    func recordsThroughPlantedPart() async throws {
        try await withFixture { fixture in
            try await Admin(fixture: fixture).seed(fixture.database, (0..<5).map { record("r\($0)", ["n": .number(String($0))], created: day($0)) })
            let path = fixture.scratch.path("records.jsonl")
            let planted = try Self.plant(path + ".part", fixture: fixture)

            let outcome = try await assets(["records", "--database", fixture.database, "--format", "jsonl", "-o", path],
                                           fixture: fixture)

            #expect(outcome.status == 0, "\(outcome.message)")
            #expect(try read(planted.outside) == planted.bytes)
            #expect(try jsonLinesIDs(path).sorted() == (0..<5).map { "r\($0)" })
            #expect(!Self.isLink(path))
            #expect(Self.mode(path) == 0o666 & ~Self.umaskNow())
            #expect(!FileManager.default.fileExists(atPath: path + ".part"))
        }
    }

    @Test("records -o FILE where FILE is a link: the link is replaced by the output, its target untouched")
    func recordsOverALink() async throws {
        try await withFixture { fixture in
            try await Admin(fixture: fixture).seed(fixture.database, [record("only", ["n": 1], created: day(0))])
            let path = fixture.scratch.path("records.jsonl")
            let planted = try Self.plant(path, fixture: fixture)

            let outcome = try await assets(["records", "--database", fixture.database, "--format", "jsonl", "-o", path],
                                           fixture: fixture)

            #expect(outcome.status == 0, "\(outcome.message)")
            #expect(try read(planted.outside) == planted.bytes)
            #expect(!Self.isLink(path))
            #expect(try jsonLinesIDs(path) == ["only"])
        }
    }

    @Test("export -o FILE with FILE.part planted as a dangling link: nothing is created where it points")
    func exportThroughDanglingPart() async throws {
        try await withFixture { fixture in
            try await Admin(fixture: fixture).seed(fixture.database, [record("e1", ["n": 1], created: day(0))])
            let path = fixture.scratch.path("export.json")
            let pointedAt = try fixture.scratch.folder("elsewhere") + "/created-by-export"
            try FileManager.default.createSymbolicLink(atPath: path + ".part", withDestinationPath: pointedAt)

            let outcome = try await assets(["export", "--name", "x", "--database", fixture.database, "--format", "json",
                                            "-o", path, "--timeout", "60"], fixture: fixture)

            #expect(outcome.status == 0, "\(outcome.message)")
            #expect(!FileManager.default.fileExists(atPath: pointedAt))
            #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.scratch.path("elsewhere")).isEmpty)
            #expect(String(decoding: try read(path), as: UTF8.self).contains("e1"))
            #expect(!Self.isLink(path + ".part") && !FileManager.default.fileExists(atPath: path + ".part"))
        }
    }

    @Test("archives pull with DATE.jsonl.part planted as a link: its target is byte-identical, the archive lands inside")
    func archiveThroughPlantedPart() async throws {
        try await withFixture { fixture in
            let admin = Admin(fixture: fixture)
            let stamp = day(0, "08:00:00", from: "2023-03-01")
            try await admin.seed(fixture.database, (0..<3).map { record("a\($0)", ["n": .number(String($0))], created: stamp, updated: stamp) })
            try await admin.post("archive", ["database": fixture.database, "before_date": "2023-03-02"])
            let folder = try fixture.scratch.folder("archives")
            let name = String(stamp.prefix(10)) + ".jsonl"
            let planted = try Self.plant(folder + "/" + name + ".part", fixture: fixture)

            let summary = try await ArchivePuller(client: fixture.client, organization: fixture.server.organizationID,
                                                  database: fixture.database, folder: folder).run()

            #expect(summary.downloaded == 1, "\(summary.failed)")
            #expect(try read(planted.outside) == planted.bytes)
            #expect(try jsonLinesIDs(folder + "/" + name).sorted() == ["a0", "a1", "a2"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [name])
        }
    }
}
