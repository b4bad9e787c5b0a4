import Foundation
import GRDB

/// The manifest as `--checksum`'s cache of hashes: a file whose size, modification time, inode and
/// status-change time all match its entry has the entry's MD5 without being read.
///
/// Size, modification time and inode alone are not enough: a file rewritten in place with the same size
/// and its modification time set back (`touch -d`, `utimensat`) keeps all three. Nobody can set the
/// status-change time back (the kernel sets it on every write and on `utimensat` itself), so it joins the key.
extension StateStore {
    static func registerChecksumCacheMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5: status-change time for --checksum") { db in
            try db.alter(table: "manifest") { t in t.add(column: "ctime_ns", .integer) }
            try db.alter(table: "push_jobs") { t in t.add(column: "ctime_ns", .integer) }
        }
    }

    /// Records a file's current stamp in its manifest entry after its hash was found equal to the entry's MD5,
    /// so the next `--checksum` run takes it from the cache.
    func refreshStamps(_ files: [LocalFile]) throws {
        guard !files.isEmpty else { return }
        try pool.write { db in
            for file in files {
                try db.execute(sql: "UPDATE manifest SET size = ?, mtime_ns = ?, inode = ?, ctime_ns = ? WHERE path = ?",
                               arguments: [file.size, file.mtimeNs, file.inode, file.ctimeNs, file.path])
            }
        }
    }

    /// The stamps with their MD5 and status-change time when `checksum`, the plain stamps otherwise.
    func withManifestStamps<T>(checksum: Bool, _ body: (ManifestStamps) throws -> T) throws -> T {
        checksum ? try withChecksumStamps(body) : try withManifestStamps(body)
    }

    /// Runs `body` with the manifest's stamps, with their MD5 and status-change time, in path byte order.
    func withChecksumStamps<T>(_ body: (ManifestStamps) throws -> T) throws -> T {
        try pool.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT path, size, mtime_ns, inode, md5, ctime_ns FROM manifest ORDER BY path")
            return try body(ManifestStamps(rows: rows))
        }
    }
}
