import AssetSync
import Foundation
import Testing

/// rclone's spellings of durations and sizes, and values too large to represent: an error, never a trap.
@Suite("filter values as rclone writes them")
struct FilterParsingTests {
    @Test("durations: units ms s m h d w M y, combinations, a bare number of seconds", arguments: [
        ("30s", 30.0), ("10m", 600), ("2h", 7200), ("7d", 604_800), ("1w", 604_800), ("1M", 2_592_000),
        ("1y", 31_536_000), ("500ms", 0.5), ("1h30m", 5400), ("90", 90), ("1.5h", 5400),
    ])
    func durations(text: String, seconds: Double) {
        #expect(FilterParsing.duration(text) == seconds)
    }

    @Test("not durations: unknown units, signs, empty, or beyond any file's age")
    func notDurations() {
        for text in ["", "5x", "-5m", "m", "1h-", "99999999999999999999y", "1e400"] {
            #expect(FilterParsing.duration(text) == nil, "\(text)")
        }
    }

    @Test("sizes: binary units, a bare number is KiB, i/iB/B suffixes", arguments: [
        ("100", Int64(102_400)), ("1k", 1024), ("1K", 1024), ("1Ki", 1024), ("1KiB", 1024), ("1.5k", 1536),
        ("10M", 10_485_760), ("10MiB", 10_485_760), ("2G", 2_147_483_648), ("1b", 1), ("0", 0), ("1T", 1_099_511_627_776),
    ])
    func sizes(text: String, bytes: Int64) throws {
        #expect(try FilterParsing.size(text, option: "--max-size") == bytes)
    }

    @Test("not sizes: unknown units, signs, junk after the unit, more bytes than Int64 holds; the error names the option")
    func notSizes() {
        for text in ["12X", "-1k", "1kk", "k", "", "9999999999P", "1e30"] {
            #expect(throws: FilterParsing.Invalid.self, "\(text)") { try FilterParsing.size(text, option: "--min-size") }
            do {
                _ = try FilterParsing.size(text, option: "--min-size")
            } catch {
                #expect(error.description.contains("--min-size"))
            }
        }
    }

    @Test("--files-from lines: comments, blanks, spaces, leading / and ./ dropped")
    func filesFrom() {
        let list = "# comment\n; comment\n\n  a.txt \n/b/c.txt\n./d e.txt\n\r\nlast"
        #expect(FilterParsing.filesFrom(list) == ["a.txt", "b/c.txt", "d e.txt", "last"])
    }
}
