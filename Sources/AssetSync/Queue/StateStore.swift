import Foundation
import GRDB

/// The durable state of syncing one folder with one database: the job queues, the manifest and
/// the orphans, in SQLite (WAL) through GRDB.
///
/// Each lifecycle transition is committed before the step it guards; the transitions of workers
/// that commit at the same moment share one transaction (group commit).
/// One process at a time owns a state file: ``open(path:)`` takes an exclusive lock beside it.
public final class StateStore: Sendable {
    public let path: String
    let pool: DatabasePool
    /// Lifecycle transitions of concurrent workers, committed together (see ``GroupCommit``).
    let transitions: GroupCommit
    /// Nil for a store opened only for reading (``openForReading(path:)``).
    private let lock: FileLock?
    let durability: Durability

    /// How the commits that guard a create, an upload and a mark survive a power cut (a plain
    /// commit in WAL mode with `synchronous=NORMAL` survives a crash of the process, not of the
    /// machine).
    public enum Durability: String, Sendable {
        /// `synchronous=NORMAL` and nothing more: the last commits may roll back on power loss.
        case normal
        /// `synchronous=FULL`: every commit syncs the WAL.
        case full
        /// `synchronous=NORMAL`, and a checkpoint (which syncs) after each commit that guards a create,
        /// an upload or a mark.
        case checkpoint

        /// `ASSETS_QUEUE_DURABILITY` picks another mode, for measuring (scripts/bench sync).
        static var configured: Durability {
            ProcessInfo.processInfo.environment["ASSETS_QUEUE_DURABILITY"].flatMap(Durability.init(rawValue:)) ?? .full
        }
    }

    public static func open(path: String) throws -> StateStore {
        try PrivateFiles.makeFolder((path as NSString).deletingLastPathComponent)
        let lock = try FileLock(path: path + ".lock")
        try PrivateFiles.prepareDatabase(path)
        let durability = Durability.configured
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
        }
        configuration.busyMode = .timeout(10)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try StateStore.migrator.migrate(pool)
        } catch {
            throw SyncError(kind: .stateFile, message: "cannot open the state file \(path): \(error)")
        }
        return StateStore(path: path, pool: pool, lock: lock, durability: durability)
    }

    /// Opens a state file to read while another process (`assets watch`) owns it: WAL readers need
    /// no lock and see the last committed state. Writing through it fails, except
    /// ``requestRetry()`` with `forRequests`.
    public static func openForReading(path: String, forRequests: Bool = false) throws -> StateStore {
        var configuration = Configuration()
        configuration.readonly = !forRequests
        configuration.busyMode = .timeout(10)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try waitForSchema(pool)
        } catch let error as SyncError {
            throw error
        } catch {
            throw SyncError(kind: .stateFile, message: "cannot read the state file \(path): \(error)")
        }
        return StateStore(path: path, pool: pool, lock: nil, durability: .normal)
    }

    /// The process that owns the state file may be creating or migrating it right now: its schema commits at
    /// once, so wait a little for it rather than fail on a missing table.
    private static func waitForSchema(_ pool: DatabasePool) throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try !pool.read({ db in try migrator.hasCompletedMigrations(db) }) {
            guard ContinuousClock.now < deadline else {
                throw SyncError(kind: .stateFile, message: "the state file \(pool.path) is not set up yet by the "
                    + "process that owns it (or was written by a newer version of assets)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    private init(path: String, pool: DatabasePool, lock: FileLock?, durability: Durability) {
        self.path = path
        self.pool = pool
        self.transitions = GroupCommit(pool: pool)
        self.lock = lock
        self.durability = durability
    }

    /// After a commit that guards a step which must not be repeated after a power cut.
    func makeDurable() throws {
        guard durability == .checkpoint else { return }
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.create(table: "manifest") { t in
                t.primaryKey("path", .text)
                t.column("size", .integer).notNull()
                t.column("mtime_ns", .integer).notNull()
                t.column("md5", .text).notNull()
                t.column("sha256", .text)
                t.column("asset_id", .text).notNull()
                t.column("etag", .text)
                t.column("synced_at", .datetime).notNull()
            }
            try db.create(table: "push_jobs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("path", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("mtime_ns", .integer).notNull()
                t.column("md5", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("state", .text).notNull()
                t.column("asset_id", .text)
                t.column("upload_url", .text)
                t.column("upload_fields", .text)
                t.column("issued_at", .datetime)
                t.column("etag", .text)
                t.column("recreations", .integer).notNull().defaults(to: 0)
                t.column("error", .text)
                t.column("failed_state", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "push_jobs_by_state", on: "push_jobs", columns: ["state", "id"])
            try db.execute(sql: """
                CREATE UNIQUE INDEX push_jobs_one_active_per_path ON push_jobs(path)
                WHERE state NOT IN ('done', 'failed')
                """)
            try db.create(table: "pull_jobs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("path", .text).notNull()
                t.column("asset_id", .text).notNull()
                t.column("state", .text).notNull()
                t.column("bytes", .integer).notNull().defaults(to: 0)
                t.column("size", .integer)
                t.column("etag", .text)
                t.column("error", .text)
                t.column("failed_state", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "pull_jobs_by_state", on: "pull_jobs", columns: ["state", "id"])
            try db.execute(sql: """
                CREATE UNIQUE INDEX pull_jobs_one_active_per_path ON pull_jobs(path)
                WHERE state NOT IN ('done', 'failed')
                """)
            try db.create(table: "orphans") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("path", .text).notNull()
                t.column("asset_id", .text)
                t.column("reason", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
        }
        migrator.registerMigration("v2: jobs by path") { db in
            // Enqueueing looks jobs up by path; the partial unique indexes cannot serve those queries.
            try db.create(index: "push_jobs_by_path", on: "push_jobs", columns: ["path"])
            try db.create(index: "pull_jobs_by_path", on: "pull_jobs", columns: ["path"])
        }
        migrator.registerMigration("v3: manifest stamps in path order") { db in
            try db.alter(table: "manifest") { t in t.add(column: "inode", .integer) }
            try db.alter(table: "push_jobs") { t in t.add(column: "inode", .integer) }
            // Covers the no-op push's merge: the stamps are read in path order without touching the rows.
            try db.create(index: "manifest_stamps_by_path", on: "manifest", columns: ["path", "size", "mtime_ns", "inode"])
        }
        migrator.registerMigration("v4: manifest origin and withdrawals") { db in
            try db.alter(table: "manifest") { t in t.add(column: "origin", .text) }
            try db.create(table: "withdrawals") { t in
                t.primaryKey("asset_id", .text)
                t.column("path", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("md5", .text).notNull()
                t.column("etag", .text)
                t.column("withdrawn_at", .datetime).notNull()
            }
            try db.create(index: "withdrawals_by_path", on: "withdrawals", columns: ["path"])
        }
        registerChecksumCacheMigration(&migrator)
        return migrator
    }

    // MARK: Meta

    public func meta(_ key: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    // MARK: Manifest

    public func manifest() throws -> [String: ManifestEntry] {
        try pool.read { db in
            Dictionary(try ManifestEntry.fetchAll(db).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Whether any file was ever recorded as synced.
    public func hasManifest() throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM manifest)") ?? false }
    }

    /// Runs `body` with the manifest's stamps readable in path byte order (SQLite's `ORDER BY path`),
    /// one row at a time: what a no-op push merges its sorted walk with.
    func withManifestStamps<T>(_ body: (ManifestStamps) throws -> T) throws -> T {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size, mtime_ns, inode FROM manifest ORDER BY path")
            return try body(ManifestStamps(rows: rows))
        }
    }

    public func saveManifest(_ entries: [ManifestEntry]) throws {
        try pool.write { db in
            for entry in entries { try entry.save(db) }
        }
    }

    // MARK: Orphans

    public func orphans() throws -> [Orphan] {
        try pool.read { db in try Orphan.order(Column("id")).fetchAll(db) }
    }
}
