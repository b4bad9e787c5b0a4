import ArgumentParser
import AssetSync
import Foundation

/// rclone's filters (`--max-age`, `--min-age`, `--max-size`, `--min-size`, `--files-from`) and `--checksum`, for
/// push and pull. They combine with `--include`/`--exclude` and `.assetsignore`: a file must pass them all.
struct FilterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Only files modified less than this long ago (30s, 10m, 2h, 7d, 1w, 1M, 1y) or "
        + "since this date (2006-01-02, 2006-01-02 15:04:05, RFC 3339). Pull reads the asset's updated_at.",
                                            valueName: "age"))
    var maxAge: String?

    @Option(name: .long, help: ArgumentHelp("Only files modified more than this long ago, or before this date.",
                                            valueName: "age"))
    var minAge: String?

    @Option(name: .long, help: ArgumentHelp("Only files of at most this size (100k, 10M, 1G; binary units, a bare number "
        + "is KiB).", valueName: "size"))
    var maxSize: String?

    @Option(name: .long, help: ArgumentHelp("Only files of at least this size.", valueName: "size"))
    var minSize: String?

    @Option(name: .long, help: ArgumentHelp("Only the paths listed in this file, one per line relative to DIR ('-': stdin; "
        + "lines starting with # or ; are comments).", valueName: "file"))
    var filesFrom: String?

    @Flag(name: .long, help: ArgumentHelp("Decide what changed by MD5 rather than size and modification time (hashes "
        + "are cached in the state file, keyed by size, modification time, inode and status-change time)."))
    var checksum = false

    func validate() throws {
        _ = try parsedWithoutList()
    }

    /// The filters, `--files-from` read (from stdin for `-`).
    func filter() throws -> FileFilter {
        var filter = try parsedWithoutList()
        if let filesFrom {
            let contents: String
            if filesFrom == "-" {
                contents = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                do {
                    contents = try String(contentsOfFile: filesFrom, encoding: .utf8)
                } catch {
                    throw ValidationError("--files-from \(filesFrom): cannot read it (\((error as NSError).localizedDescription))")
                }
            }
            filter.filesFrom = FilterParsing.filesFrom(contents)
        }
        return filter
    }

    private func parsedWithoutList() throws -> FileFilter {
        var filter = FileFilter()
        do {
            filter.maxAge = try maxAge.map { try FilterParsing.age($0, option: "--max-age") }
            filter.minAge = try minAge.map { try FilterParsing.age($0, option: "--min-age") }
            filter.maxSize = try maxSize.map { try FilterParsing.size($0, option: "--max-size") }
            filter.minSize = try minSize.map { try FilterParsing.size($0, option: "--min-size") }
        } catch let error as FilterParsing.Invalid {
            throw ValidationError(error.description)
        }
        return filter
    }
}
