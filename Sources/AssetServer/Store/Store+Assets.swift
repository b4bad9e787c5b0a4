import Foundation
import WireFormat

struct AssetRow: Sendable {
    var id: String
    var databaseID: String
    var filename: String
    var key: String
    var isUploaded: Bool
    var createdAt: Micros
    var updatedAt: Micros

    init(row: SQLRow) throws {
        id = try row.string("id")
        databaseID = try row.string("database_id")
        filename = try row.string("filename")
        key = try row.string("key")
        isUploaded = try row.bool("is_uploaded")
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
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

    init(row: SQLRow) throws {
        key = try row.string("key")
        file = try row.string("file")
        size = try row.int64("size")
        md5 = try row.string("md5")
        contentType = try row.string("content_type")
        createdAt = try row.int64("created_at")
    }

    init(key: String, file: String, size: Int64, md5: String, contentType: String, createdAt: Micros) {
        (self.key, self.file, self.size, self.md5, self.contentType, self.createdAt) =
            (key, file, size, md5, contentType, createdAt)
    }
}

extension Store {
    func createAsset(databaseID: String, filename: String, now: Micros) async throws -> AssetRow {
        let id = Identifier.make()
        let key = "assets/\(databaseID)/\(id)"
        return try await db.transaction { db in
            try await db.execute(
                "INSERT INTO assets (id, database_id, filename, key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                id, databaseID, filename, key, now, now)
            try await Store.touchDatabase(db, id: databaseID, now: now)
            return try AssetRow(row: try await Store.required(db.row("SELECT * FROM assets WHERE id = ?", id)))
        }
    }

    func asset(_ id: String, databaseID: String) async throws -> AssetRow? {
        try await db.reader.row("SELECT * FROM assets WHERE id = ? AND database_id = ?", id, databaseID)
            .map(AssetRow.init)
    }

    func assets(databaseID: String, page: PageWindow?, ordering: AssetOrdering = AssetOrdering(nil)) async throws
        -> (rows: [AssetRow], total: Int) {
        let db = self.db.reader
        let total = try await db.integer("SELECT count(*) AS n FROM assets WHERE database_id = ?", databaseID)
        let order = "ORDER BY \(ordering.sql(insertionOrder: dialect.insertionOrder))"
        let rows =
            if let page {
                try await db.rows(
                    "SELECT * FROM assets WHERE database_id = ? \(order) LIMIT ? OFFSET ?", databaseID, page.size,
                    page.offset)
            } else {
                try await db.rows("SELECT * FROM assets WHERE database_id = ? \(order)", databaseID)
            }
        return (try rows.map(AssetRow.init), Int(clamping: total))
    }

    /// Sets `is_uploaded`; the caller has checked that the blob store holds the asset's object.
    func markAsset(_ asset: AssetRow, isUploaded: Bool?, now: Micros) async throws -> AssetRow {
        try await db.transaction { db in
            if let isUploaded {
                try await db.execute(
                    "UPDATE assets SET is_uploaded = ?, updated_at = ? WHERE id = ?", isUploaded, now, asset.id)
                try await Store.touchDatabase(db, id: asset.databaseID, now: now)
            }
            return try AssetRow(row: try await Store.required(db.row("SELECT * FROM assets WHERE id = ?", asset.id)))
        }
    }

    /// A row the transaction just wrote or checked.
    static func required(_ row: SQLRow?) throws -> SQLRow {
        guard let row else { throw SQLRowError(column: "*", problem: "row vanished inside its transaction") }
        return row
    }
}

// MARK: Objects

extension Store {
    func object(_ key: String) async throws -> StoredObject? {
        try await db.reader.row("SELECT * FROM objects WHERE key = ?", key).map(StoredObject.init)
    }

    /// Moves the finished temporary file under a fresh server-chosen name and records it under `key`,
    /// replacing (and deleting) any earlier blob of that key.
    func commitBlob(
        temporaryPath: String, key: String, size: Int64, md5: String, contentType: String, now: Micros
    ) async throws {
        let name = try adoptTemporaryFile(temporaryPath)
        let replaced = try await db.transaction { db in
            try await Store.insertObject(
                db, key: key, file: name, size: size, md5: md5, contentType: contentType, now: now)
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
    static func insertObject(
        _ db: any SQLExecutor, key: String, file: String, size: Int64, md5: String, contentType: String, now: Micros
    ) async throws -> String? {
        let old = try await db.row("SELECT file FROM objects WHERE key = ? \(db.dialect.forUpdate)", key)?.string("file")
        try await db.execute(
            """
            INSERT INTO objects (key, file, size, md5, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET file = excluded.file, size = excluded.size, md5 = excluded.md5,
                content_type = excluded.content_type, created_at = excluded.created_at
            """,
            key, file, size, md5, contentType, now)
        return old
    }
}
