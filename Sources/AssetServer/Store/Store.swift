import Crypto
import Foundation
import Logging

/// Metadata in a ``MetadataDatabase`` (SQLite in the data folder, or PostgreSQL) and blobs as files under
/// `blobs/`, named by the server.
final class Store: Sendable {
    let db: any MetadataDatabase
    let blobsDirectory: String
    let temporaryDirectory: String

    var dialect: SQLDialect { db.dialect }

    /// Opens the data folder and the metadata database, applying migrations.
    /// `clearTemporaryFiles` is false for a replica sharing the folder: another may be writing there.
    static func open(
        dataDirectory: String, metadata: MetadataLocation, clearTemporaryFiles: Bool, logger: Logger
    ) async throws -> Store {
        let fileManager = FileManager.default
        let blobsDirectory = dataDirectory + "/blobs"
        let temporaryDirectory = blobsDirectory + "/tmp"
        try fileManager.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        // The data folder holds the token and the signing secret: owner only, whatever an older version left.
        for folder in [dataDirectory, blobsDirectory, temporaryDirectory] { chmod(folder, 0o700) }
        if clearTemporaryFiles, let leftovers = try? fileManager.contentsOfDirectory(atPath: temporaryDirectory) {
            for name in leftovers { try? fileManager.removeItem(atPath: temporaryDirectory + "/" + name) }
        }
        let db: any MetadataDatabase =
            switch metadata {
            case .sqlite: try SQLiteMetadata(path: dataDirectory + "/server.sqlite")
            case .postgres(let location): try await PostgresMetadata(location, logger: logger)
            }
        return Store(db: db, blobsDirectory: blobsDirectory, temporaryDirectory: temporaryDirectory)
    }

    private init(db: any MetadataDatabase, blobsDirectory: String, temporaryDirectory: String) {
        self.db = db
        self.blobsDirectory = blobsDirectory
        self.temporaryDirectory = temporaryDirectory
    }

    /// A fresh path for a temporary file; `commitBlob` moves it under its final, server-chosen name.
    func temporaryPath() -> String { temporaryDirectory + "/" + UUID().uuidString.lowercased() }

    func blobPath(_ name: String) -> String { blobsDirectory + "/" + name }
}

// MARK: Settings kept across restarts

extension Store {
    /// The value saved under `key`, or `make()` saved there now (the first replica to start wins).
    func setting(_ key: String, orCreate make: () -> String) async throws -> String {
        let fresh = make()
        return try await db.transaction { db in
            try await db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, fresh)
            guard let row = try await db.row("SELECT value FROM meta WHERE key = ?", key) else {
                throw SQLRowError(column: "meta.value", problem: "missing after insert")
            }
            return try row.string("value")
        }
    }

    func setting(_ key: String) async throws -> String? {
        try await db.reader.row("SELECT value FROM meta WHERE key = ?", key)?.string("value")
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
