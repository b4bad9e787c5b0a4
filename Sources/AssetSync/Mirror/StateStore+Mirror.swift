import Foundation
import GRDB

/// Which run wrote a manifest entry: what `--delete` may act on.
public enum ManifestOrigin: String, Codable, Sendable, DatabaseValueConvertible {
    /// A push uploaded the file: `push --delete` may withdraw its asset.
    case push
    /// A pull wrote the file: `pull --delete` may remove it.
    case pull
    /// The file and the asset were found identical and adopted: neither run made them, neither removes them.
    case found
}

/// An asset that `push --delete` withdrew, with what the manifest knew of its bytes: what `restore` checks.
public struct Withdrawal: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "withdrawals"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var assetId: String
    public var path: String
    public var size: Int64
    public var md5: String
    public var etag: String?
    public var withdrawnAt: Date
}

extension StateStore {
    /// Forgets the manifest entry of a file that a pull removed.
    public func removeManifestEntry(path: String) throws {
        try pool.write { db in _ = try ManifestEntry.deleteOne(db, key: path) }
    }

    /// Records a withdrawal and forgets the manifest entry, in one transaction.
    public func recordWithdrawal(of entry: ManifestEntry) throws {
        try pool.write { db in
            try Withdrawal(assetId: entry.assetId, path: entry.path, size: entry.size, md5: entry.md5, etag: entry.etag,
                           withdrawnAt: Date()).save(db)
            _ = try ManifestEntry.deleteOne(db, key: entry.path)
        }
    }

    /// The withdrawals of a path, newest first.
    public func withdrawals(path: String) throws -> [Withdrawal] {
        try pool.read { db in
            try Withdrawal.filter(Column("path") == path).order(Column("withdrawn_at").desc).fetchAll(db)
        }
    }

    public func removeWithdrawal(assetId: String) throws {
        try pool.write { db in _ = try Withdrawal.deleteOne(db, key: assetId) }
    }
}
