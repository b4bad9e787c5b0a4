import Foundation

/// rclone's filters beyond globs: `--max-age`, `--min-age`, `--max-size`, `--min-size` and `--files-from`.
///
/// Every filter set must keep a file (they combine with include/exclude and `.assetsignore`, which are
/// applied elsewhere). Push asks with a local file's size and modification time; pull with the remote
/// asset's `updated_at` and (only when a size filter is set) the stored object's length.
public struct FileFilter: Sendable, Equatable {
    /// Only files modified at or after this moment (`--max-age`: younger than).
    public var maxAge: AgeLimit?
    /// Only files modified at or before this moment (`--min-age`: older than).
    public var minAge: AgeLimit?
    /// Only files of at most this many bytes.
    public var maxSize: Int64?
    /// Only files of at least this many bytes.
    public var minSize: Int64?
    /// Only these relative paths (`--files-from`).
    public var filesFrom: Set<String>?

    public init() {}

    /// No filter set: everything passes.
    public var isEmpty: Bool {
        maxAge == nil && minAge == nil && maxSize == nil && minSize == nil && filesFrom == nil
    }

    public var filtersBySize: Bool { maxSize != nil || minSize != nil }

    /// Whether the path alone keeps a file (`--files-from`).
    public func keeps(path: String) -> Bool {
        filesFrom?.contains(path) ?? true
    }

    /// Whether a file of `size` bytes (nil: unknown, not judged) last modified at `modified` passes, `now` being
    /// the moment ages are counted from.
    public func keeps(path: String, size: Int64?, modifiedNs: Int64, now: Date) -> Bool {
        guard keeps(path: path) else { return false }
        if let size {
            if let maxSize, size > maxSize { return false }
            if let minSize, size < minSize { return false }
        }
        if let maxAge, modifiedNs < maxAge.cutoffNs(now: now) { return false }
        if let minAge, modifiedNs > minAge.cutoffNs(now: now) { return false }
        return true
    }

    public func keeps(_ file: LocalFile, now: Date) -> Bool {
        keeps(path: file.path, size: file.size, modifiedNs: file.mtimeNs, now: now)
    }
}

extension FileFilter {
    /// A date in nanoseconds since 1970, clamped to Int64 (a server's far-off date cannot trap).
    public static func nanoseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1e9).rounded(.down)
        guard value.isFinite else { return value > 0 ? .max : .min }
        if value >= Double(Int64.max) { return .max }
        if value <= Double(Int64.min) { return .min }
        return Int64(value)
    }
}

/// An age as rclone reads it: a duration before now, or an absolute moment.
public enum AgeLimit: Sendable, Equatable {
    case duration(seconds: Double)
    case moment(Date)

    /// The moment this age stands for, in nanoseconds since 1970 (clamped: nothing traps).
    func cutoffNs(now: Date) -> Int64 {
        let date: Date
        switch self {
        case .duration(let seconds): date = now.addingTimeInterval(-seconds)
        case .moment(let moment): date = moment
        }
        return FileFilter.nanoseconds(date)
    }
}
