import Foundation
import GRDB

struct AssetRow: Sendable {
    var id: String
    var databaseID: String
    var filename: String
    var key: String
    var isUploaded: Bool
    var createdAt: Micros
    var updatedAt: Micros

    init(row: Row) {
        id = row["id"]
        databaseID = row["database_id"]
        filename = row["filename"]
        key = row["key"]
        isUploaded = row["is_uploaded"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
    }

    func json(baseURL: String) -> JSONValue {
        .object([
            "id": .string(id),
            "download_url": .string("\(baseURL)/api/databases/\(databaseID)/assets/\(id)/"),
            "filename": .string(filename),
            "is_uploaded": .bool(isUploaded),
            "created_at": .string(Timestamp.iso(createdAt)),
            "updated_at": .string(Timestamp.iso(updatedAt)),
        ])
    }
}

/// A stored blob: what storage holds under a key.
struct StoredObject: Sendable {
    var key: String
    var file: String
    var size: Int64
    var md5: String
    var contentType: String
    var createdAt: Micros

    init(row: Row) {
        key = row["key"]
        file = row["file"]
        size = row["size"]
        md5 = row["md5"]
        contentType = row["content_type"]
        createdAt = row["created_at"]
    }

    init(key: String, file: String, size: Int64, md5: String, contentType: String, createdAt: Micros) {
        (self.key, self.file, self.size, self.md5, self.contentType, self.createdAt) =
            (key, file, size, md5, contentType, createdAt)
    }
}

extension Store {
    func createAsset(databaseID: String, filename: String, now: Micros) throws -> AssetRow {
        let id = Identifier.make()
        let key = "assets/\(databaseID)/\(id)"
        return try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO assets (id, database_id, filename, key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, databaseID, filename, key, now, now])
            try touchDatabase(db, id: databaseID, now: now)
            return AssetRow(row: try Row.fetchOne(db, sql: "SELECT * FROM assets WHERE id = ?", arguments: [id])!)
        }
    }

    func asset(_ id: String, databaseID: String) throws -> AssetRow? {
        try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM assets WHERE id = ? AND database_id = ?", arguments: [id, databaseID]
            ).map(AssetRow.init)
        }
    }

    func assets(databaseID: String, page: PageWindow?, ordering: AssetOrdering = AssetOrdering(nil))
        throws -> (rows: [AssetRow], total: Int) {
        try pool.read { db in
            let total = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM assets WHERE database_id = ?", arguments: [databaseID])!
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM assets WHERE database_id = ? ORDER BY \(ordering.sql) \(page?.sqlLimit ?? "")",
                arguments: [databaseID])
            return (rows.map(AssetRow.init), total)
        }
    }

    enum MarkResult {
        case marked(AssetRow)
        case notUploaded
    }

    /// Sets `is_uploaded`; `true` only once storage holds a blob under the asset's key.
    func markAsset(_ asset: AssetRow, isUploaded: Bool?, now: Micros) throws -> MarkResult {
        try pool.write { db in
            if let isUploaded {
                if isUploaded {
                    let hasBlob = try Bool.fetchOne(
                        db, sql: "SELECT EXISTS (SELECT 1 FROM objects WHERE key = ?)", arguments: [asset.key])!
                    guard hasBlob else { return .notUploaded }
                }
                try db.execute(
                    sql: "UPDATE assets SET is_uploaded = ?, updated_at = ? WHERE id = ?",
                    arguments: [isUploaded, now, asset.id])
                try touchDatabase(db, id: asset.databaseID, now: now)
            }
            return .marked(
                AssetRow(row: try Row.fetchOne(db, sql: "SELECT * FROM assets WHERE id = ?", arguments: [asset.id])!))
        }
    }
}

// MARK: Objects

extension Store {
    func object(_ key: String) throws -> StoredObject? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM objects WHERE key = ?", arguments: [key]).map(StoredObject.init)
        }
    }

    /// Moves the finished temporary file under a fresh server-chosen name and records it under `key`,
    /// replacing (and deleting) any earlier blob of that key.
    func commitBlob(
        temporaryPath: String, key: String, size: Int64, md5: String, contentType: String, now: Micros
    ) throws {
        let name = try adoptTemporaryFile(temporaryPath)
        let replaced = try pool.write { db in
            try insertObject(db, key: key, file: name, size: size, md5: md5, contentType: contentType, now: now)
        }
        if let replaced { unlink(blobPath(replaced)) }
    }

    /// Moves a finished temporary file under a fresh server-chosen name and returns that name.
    func adoptTemporaryFile(_ temporaryPath: String) throws -> String {
        let name = Identifier.make()
        guard rename(temporaryPath, blobPath(name)) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return name
    }

    /// Records blob `file` under `key`; returns the file it replaced, which the caller deletes after commit.
    func insertObject(
        _ db: GRDB.Database, key: String, file: String, size: Int64, md5: String, contentType: String, now: Micros
    ) throws -> String? {
        let old = try String.fetchOne(db, sql: "SELECT file FROM objects WHERE key = ?", arguments: [key])
        try db.execute(
            sql: """
                INSERT INTO objects (key, file, size, md5, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET file = excluded.file, size = excluded.size, md5 = excluded.md5,
                    content_type = excluded.content_type, created_at = excluded.created_at
                """,
            arguments: [key, file, size, md5, contentType, now])
        return old
    }
}
