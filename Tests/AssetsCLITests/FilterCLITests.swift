import Foundation
import PixieBrix
import Testing
import TestSupport

/// rclone's filters on push and pull, through the built binary: each alone, then combined with
/// `--include`/`--exclude` and `.assetsignore`, with `--files-from -` fed on stdin.
@Suite("push and pull filters (--max-age, --min-age, --max-size, --min-size, --files-from), the built binary", .serialized)
struct FilterCLITests {
    static let day = 86_400

    /// Four files whose sizes straddle 1 KiB and 1 MiB.
    static func sizedTree(_ root: String) throws {
        try write(pseudoRandomBytes(500, seed: 1), to: root + "/s500.bin")
        try write(pseudoRandomBytes(1024, seed: 2), to: root + "/k1.bin")
        try write(pseudoRandomBytes(2048, seed: 3), to: root + "/k2.bin")
        try write(pseudoRandomBytes(1_048_577, seed: 4), to: root + "/m1.bin")
    }

    @Test("push --max-size and --min-size keep files by size: binary units, a bare number is KiB, bounds inclusive")
    func pushBySize() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("sized")
            try Self.sizedTree(source)
            let cases: [([String], Set<String>)] = [
                (["--max-size", "1k"], ["s500.bin", "k1.bin"]),
                (["--max-size", "1"], ["s500.bin", "k1.bin"]),
                (["--min-size", "1Ki"], ["k1.bin", "k2.bin", "m1.bin"]),
                (["--max-size", "1MiB"], ["s500.bin", "k1.bin", "k2.bin"]),
                (["--min-size", "1.5k", "--max-size", "1M"], ["k2.bin"]),
            ]
            for (arguments, expected) in cases {
                let database = try await cli.newDatabase()
                let outcome = try await cli.run("push", source, database: database, arguments)
                #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
                #expect(try await cli.uploadedNames(database) == expected, "push \(arguments.joined(separator: " "))")
            }
        }
    }

    @Test("push --max-age and --min-age keep files by modification time, as durations or absolute dates")
    func pushByAge() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("aged")
            let now = Int(Date().timeIntervalSince1970)
            try write(Data("three days old\n".utf8), to: source + "/old.txt")
            try setMtime(source + "/old.txt", secondsSince1970: now - 3 * Self.day)
            try write(Data("two hours old\n".utf8), to: source + "/recent.txt")
            try setMtime(source + "/recent.txt", secondsSince1970: now - 2 * 3600)
            try write(Data("new\n".utf8), to: source + "/new.txt")
            let yesterday = Date(timeIntervalSince1970: Double(now - Self.day))
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            let cases: [([String], Set<String>)] = [
                (["--max-age", "1d"], ["recent.txt", "new.txt"]),
                (["--min-age", "1d"], ["old.txt"]),
                (["--max-age", "3h", "--min-age", "1h"], ["recent.txt"]),
                (["--max-age", "1h30m"], ["new.txt"]),
                (["--min-age", formatter.string(from: yesterday)], ["old.txt"]),
                (["--max-age", ISO8601DateFormatter().string(from: yesterday)], ["recent.txt", "new.txt"]),
            ]
            for (arguments, expected) in cases {
                let database = try await cli.newDatabase()
                let outcome = try await cli.run("push", source, database: database, arguments)
                #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
                #expect(try await cli.uploadedNames(database) == expected, "push \(arguments.joined(separator: " "))")
            }
        }
    }

    @Test("push --files-from - reads the paths from stdin: comments (# ;), blanks, spaces, a leading / or ./ skipped")
    func pushFilesFromStdin() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("listed")
            for path in ["a.txt", "b/c.txt", "d.txt", "e.txt", "#f.txt"] {
                try write(Data("\(path)\n".utf8), to: source + "/" + path)
            }
            let list = "# a comment\n; another comment\n\n  a.txt  \n/b/c.txt\n./d.txt\nmissing.txt\n"
            let outcome = try await cli.run("push", source, ["--files-from", "-"], input: Data(list.utf8))
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(try await cli.uploadedNames(fixture.database) == ["a.txt", "b/c.txt", "d.txt"])

            let file = fixture.scratch.path("list.txt")
            try write(Data("e.txt\n".utf8), to: file)
            let database = try await cli.newDatabase()
            let fromFile = try await cli.run("push", source, database: database, ["--files-from", file])
            #expect(fromFile.status == 0, "\(fromFile.stderr)")
            #expect(try await cli.uploadedNames(database) == ["e.txt"])
        }
    }

    @Test("push: --files-from -, --max-size, --max-age, --exclude and .assetsignore combined: a file must pass them all")
    func pushCombined() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("combined")
            let now = Int(Date().timeIntervalSince1970)
            try write(Data("kept\n".utf8), to: source + "/a.txt")
            try write(Data("kept too\n".utf8), to: source + "/b/c.txt")
            try write(pseudoRandomBytes(4096, seed: 9), to: source + "/big.bin")
            try write(Data("a log\n".utf8), to: source + "/skip.log")
            try write(Data("ignored\n".utf8), to: source + "/ignored.txt")
            try write(Data("old\n".utf8), to: source + "/old.txt")
            try setMtime(source + "/old.txt", secondsSince1970: now - 3 * Self.day)
            try write(Data("not listed\n".utf8), to: source + "/unlisted.txt")
            try write(Data("ignored.txt\n".utf8), to: source + "/.assetsignore")
            let list = "a.txt\nb/c.txt\nbig.bin\nskip.log\nignored.txt\nold.txt\n"
            let outcome = try await cli.run("push", source, ["--files-from", "-", "--max-size", "1k", "--max-age", "1d",
                                                             "--exclude", "*.log"], input: Data(list.utf8))
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(try await cli.uploadedNames(fixture.database) == ["a.txt", "b/c.txt"])
        }
    }

    @Test("pull: sizes from storage, ages from updated_at, --files-from - on stdin, alone and combined with --include")
    func pullFilters() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            // An asset updated three days ago: pushed while the server's clock is set back.
            let early = try fixture.scratch.folder("early")
            try write(Data("an old asset\n".utf8), to: early + "/old.txt")
            try await advanceClock(seconds: -3 * Self.day, fixture: fixture)
            let first = try await fixture.pusher(early, store: try fixture.store("early.sqlite")).push()
            try await advanceClock(seconds: 3 * Self.day, fixture: fixture)
            #expect(first.done == 1)
            let source = try fixture.scratch.folder("sized")
            try Self.sizedTree(source)
            try write(Data("a new text\n".utf8), to: source + "/new.txt")
            let second = try await fixture.pusher(source, store: try fixture.store("sized.sqlite")).push()
            #expect(second.done == 5)

            let cases: [([String], String?, Set<String>)] = [
                (["--max-size", "1k"], nil, ["s500.bin", "k1.bin", "old.txt", "new.txt"]),
                (["--min-size", "2k"], nil, ["k2.bin", "m1.bin"]),
                (["--max-age", "1d"], nil, ["s500.bin", "k1.bin", "k2.bin", "m1.bin", "new.txt"]),
                (["--min-age", "2d"], nil, ["old.txt"]),
                (["--files-from", "-"], "# wanted\nk2.bin\n/old.txt\n", ["k2.bin", "old.txt"]),
                (["--files-from", "-", "--include", "*.txt", "--max-age", "1d"], "new.txt\nold.txt\nk1.bin\n", ["new.txt"]),
                (["--files-from", "-", "--min-size", "1k", "--max-size", "1M"], "s500.bin\nk1.bin\nm1.bin\nk2.bin\n",
                 ["k1.bin", "k2.bin"]),
            ]
            for (index, (arguments, input, expected)) in cases.enumerated() {
                let target = try fixture.scratch.folder("out-\(index)")
                let outcome = try await cli.run("pull", target, arguments, input: input.map { Data($0.utf8) })
                #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
                #expect(try localNames(target) == expected, "pull \(arguments.joined(separator: " "))")
            }
        }
    }

    @Test("bad filter values are usage errors (exit 2) that name the option")
    func badValues() async throws {
        try await withFixture { fixture in
            let cli = FilterChecksumCLI(fixture: fixture)
            let source = try fixture.scratch.folder("bad")
            for (arguments, option) in [(["--max-size", "12X"], "--max-size"), (["--min-age", "yesterday"], "--min-age"),
                                        (["--max-age=-5m"], "--max-age"),
                                        (["--files-from", fixture.scratch.path("no-such-list")], "--files-from")] {
                let outcome = try await cli.run("push", source, arguments)
                #expect(outcome.status == 2, "\(arguments): \(outcome.stderr)")
                #expect(outcome.stderr.contains(option), "\(arguments): \(outcome.stderr)")
            }
            #expect(try await cli.uploadedNames(fixture.database).isEmpty)
        }
    }
}
