import Foundation
import Testing
import TestSupport

/// `assets serve`'s hidden options for tests (`--archive-interval`, `--max-live-records`): what they refuse.
@Suite("assets serve's hidden test options")
struct ServeTestOptionsTests {
    @Test(
        "an archive interval or a live-record limit out of range exits 2 (usage) naming the option, writing nothing",
        arguments: [
            ["--archive-interval", "0"], ["--archive-interval", "0.4"], ["--archive-interval", "86401"],
            ["--archive-interval", "nan"], ["--archive-interval", "inf"], ["--max-live-records=-1"],
            ["--max-live-records", "500001"],
        ])
    func refusesOutOfRange(_ option: [String]) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let outcome = try await CLI.run(["serve", "--data", scratch.path("data"), "--port", "0"] + option)
        let name = String(option[0].prefix { $0 != "=" })
        #expect(outcome.status == 2, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(name) must be between"), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("data")))
    }
}
