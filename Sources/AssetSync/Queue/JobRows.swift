import Foundation
import GRDB

/// A file to push, and how far its lifecycle got. One row per file and push of it.
public struct PushJob: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "push_jobs"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    /// The path relative to the pushed folder, with `/`: also the remote filename.
    public var path: String
    public var size: Int64
    public var mtimeNs: Int64
    public var md5: String
    public var sha256: String
    public var state: PushState
    public var assetId: String?
    public var uploadUrl: String?
    /// The presigned POST fields as a JSON array of `[name, value]` pairs, in the server's order.
    public var uploadFields: String?
    public var issuedAt: Date?
    public var etag: String?
    /// The file's inode when it was queued, recorded in the manifest once done.
    public var inode: Int64? = nil
    /// The file's status-change time when it was queued, recorded in the manifest once done.
    public var ctimeNs: Int64? = nil
    /// Upload URLs that expired or were refused, so a fresh create was made.
    public var recreations: Int
    public var error: String?
    /// The state the job failed in, restored by `assets retry`.
    public var failedState: PushState?
    public var createdAt: Date
    public var updatedAt: Date

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Whether the content to send is known by its hash. It is from the start when the enqueue had to compare
    /// it; otherwise the upload hashes the bytes as it sends them and records them here (`md5` empty until then).
    public var contentKnown: Bool { !md5.isEmpty }

    mutating func take(_ digest: FileDigest) {
        md5 = digest.md5
        sha256 = digest.sha256
    }

    /// The file's modification time, inode and status-change time as a scan saw them.
    mutating func takeStamps(of file: LocalFile, at now: Date) {
        mtimeNs = file.mtimeNs
        inode = file.inode
        ctimeNs = file.ctimeNs
        updatedAt = now
    }

    mutating func forgetContent() {
        md5 = ""
        sha256 = ""
    }
}

/// What the last verified sync of a path left: lets an unchanged tree re-sync from `stat` alone.
public struct ManifestEntry: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "manifest"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var path: String
    public var size: Int64
    public var mtimeNs: Int64
    public var md5: String
    public var sha256: String?
    public var assetId: String
    public var etag: String?
    public var syncedAt: Date
    /// The inode seen with `size` and `mtimeNs` (nil in entries from before it was kept: not compared).
    public var inode: Int64? = nil
    /// The status-change time seen with them (nil when unknown: `--checksum` then hashes the file again).
    public var ctimeNs: Int64? = nil
    /// Which run recorded the entry (nil in entries from before it was kept: never mirrored away).
    public var origin: ManifestOrigin? = nil
}

/// A file to pull, and how far its download got.
public struct PullJob: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "pull_jobs"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    /// The local path relative to the folder (the sanitized remote filename).
    public var path: String
    public var assetId: String
    public var state: PullState
    /// Bytes in the `.part` file when the state was last committed.
    public var bytes: Int64
    public var size: Int64?
    public var etag: String?
    public var error: String?
    public var failedState: PullState?
    public var createdAt: Date
    public var updatedAt: Date

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The states of one file's pull: `queued → downloading → verifying → done`, or `failed`.
public enum PullState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case queued, downloading, verifying, done, failed

    public var isTerminal: Bool { self == .done || self == .failed }
}

extension PushState: DatabaseValueConvertible {}

/// An asset created but never marked uploaded: never downloadable, kept for the record.
public struct Orphan: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "orphans"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var path: String
    /// Nil when the process died during the create, so the id never reached us.
    public var assetId: String?
    public var reason: String
    public var createdAt: Date

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
