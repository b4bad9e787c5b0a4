import Crypto
import Foundation
import GRDB

/// Metadata in SQLite (WAL, through a GRDB pool) and blobs as files under `blobs/`, named by the server.
final class Store: Sendable {
    let pool: DatabasePool
    let blobsDirectory: String
    let temporaryDirectory: String

    init(dataDirectory: String) throws {
        let fileManager = FileManager.default
        blobsDirectory = dataDirectory + "/blobs"
        temporaryDirectory = blobsDirectory + "/tmp"
        try fileManager.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        // The data folder holds the token and the signing secret: owner only, whatever an older version left.
        for folder in [dataDirectory, blobsDirectory, temporaryDirectory] { chmod(folder, 0o700) }
        if let leftovers = try? fileManager.contentsOfDirectory(atPath: temporaryDirectory) {
            for name in leftovers { try? fileManager.removeItem(atPath: temporaryDirectory + "/" + name) }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let databasePath = dataDirectory + "/server.sqlite"
        // SQLite gives -wal and -shm the database file's mode: a 0600 database keeps all three private.
        let database = open(databasePath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if database >= 0 {
            fchmod(database, 0o600)
            close(database)
        }
        for suffix in ["-wal", "-shm"] { chmod(databasePath + suffix, 0o600) }
        pool = try DatabasePool(path: databasePath, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// A fresh path for a temporary file; `commitBlob` moves it under its final, server-chosen name.
    func temporaryPath() -> String { temporaryDirectory + "/" + UUID().uuidString.lowercased() }

    func blobPath(_ name: String) -> String { blobsDirectory + "/" + name }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE tokens (id TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
                    CREATE TABLE databases (
                        id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, owner TEXT,
                        created_at INTEGER NOT NULL, last_write_at INTEGER, num_records INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE assets (
                        id TEXT PRIMARY KEY, database_id TEXT NOT NULL, filename TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
                        is_uploaded INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                    CREATE INDEX assets_by_database ON assets(database_id);
                    CREATE TABLE objects (
                        key TEXT PRIMARY KEY, file TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL,
                        content_type TEXT NOT NULL, created_at INTEGER NOT NULL);
                    CREATE TABLE records (
                        database_id TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
                        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (database_id, id));
                    CREATE INDEX records_by_created ON records(database_id, created_at, id);
                    CREATE INDEX records_by_updated ON records(database_id, updated_at);
                    CREATE TABLE record_archives (
                        id TEXT PRIMARY KEY, database_id TEXT NOT NULL, date TEXT NOT NULL, key TEXT NOT NULL,
                        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (database_id, date));
                    CREATE TABLE export_jobs (
                        id TEXT PRIMARY KEY, owner TEXT, name TEXT NOT NULL, status TEXT NOT NULL,
                        created_at INTEGER NOT NULL, key TEXT, error_message TEXT);
                    """)
        }
        return migrator
    }
}

// MARK: Settings kept across restarts

extension Store {
    /// The value saved under `key`, or `make()` saved there now.
    func setting(_ key: String, orCreate make: () -> String) throws -> String {
        let fresh = make()
        return try pool.write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) {
                return existing
            }
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [key, fresh])
            return fresh
        }
    }
}

enum Identifier {
    static func make() -> String { UUID().uuidString.lowercased() }

    /// A lower-case canonical UUID: the only form the API accepts in a path.
    static func isCanonical(_ text: some StringProtocol) -> Bool {
        guard text.utf8.count == 36 else { return false }
        for (index, byte) in text.utf8.enumerated() {
            switch index {
            case 8, 13, 18, 23: if byte != UInt8(ascii: "-") { return false }
            default:
                let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                let isLowerHex = (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                if !isDigit && !isLowerHex { return false }
            }
        }
        return true
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
