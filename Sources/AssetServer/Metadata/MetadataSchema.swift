/// The one schema, as migrations with the same ids on both databases. SQLite's statements are the ones earlier
/// versions applied (through GRDB's migrator, so existing data folders keep working); PostgreSQL's differ only
/// in types: 64-bit integers, a real boolean, byte-order (`"C"`) text comparison as SQLite's, and an identity
/// column for insertion order where SQLite has `rowid`.
enum MetadataSchema {
    struct Migration: Sendable {
        var id: String
        var sqlite: [String]
        var postgres: [String]
    }

    static let migrations: [Migration] = [
        Migration(
            id: "v1",
            sqlite: [
                """
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
                """
            ],
            postgres: [
                #"CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)"#,
                #"""
                CREATE TABLE tokens (
                    id TEXT COLLATE "C" PRIMARY KEY, digest TEXT COLLATE "C" NOT NULL UNIQUE, created_at BIGINT NOT NULL)
                """#,
                #"""
                CREATE TABLE databases (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL,
                    type TEXT NOT NULL, owner TEXT COLLATE "C", created_at BIGINT NOT NULL, last_write_at BIGINT,
                    num_records BIGINT NOT NULL DEFAULT 0)
                """#,
                "CREATE INDEX databases_by_seq ON databases(seq)",
                #"""
                CREATE TABLE assets (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT COLLATE "C" PRIMARY KEY,
                    database_id TEXT COLLATE "C" NOT NULL, filename TEXT NOT NULL, key TEXT COLLATE "C" NOT NULL UNIQUE,
                    is_uploaded BOOLEAN NOT NULL DEFAULT FALSE, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """#,
                "CREATE INDEX assets_by_database ON assets(database_id, seq)",
                #"""
                CREATE TABLE objects (
                    key TEXT COLLATE "C" PRIMARY KEY, file TEXT NOT NULL, size BIGINT NOT NULL, md5 TEXT NOT NULL,
                    content_type TEXT NOT NULL, created_at BIGINT NOT NULL)
                """#,
                #"""
                CREATE TABLE records (
                    database_id TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, data TEXT NOT NULL,
                    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (database_id, id))
                """#,
                "CREATE INDEX records_by_created ON records(database_id, created_at, id)",
                "CREATE INDEX records_by_updated ON records(database_id, updated_at)",
                #"""
                CREATE TABLE record_archives (
                    id TEXT COLLATE "C" PRIMARY KEY, database_id TEXT COLLATE "C" NOT NULL, date TEXT COLLATE "C" NOT NULL,
                    key TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (database_id, date))
                """#,
                #"""
                CREATE TABLE export_jobs (
                    id TEXT COLLATE "C" PRIMARY KEY, owner TEXT COLLATE "C", name TEXT NOT NULL, status TEXT NOT NULL,
                    created_at BIGINT NOT NULL, key TEXT, error_message TEXT)
                """#,
            ]),
        // Export jobs that any replica can pick up: what was asked, who runs it, until when its lease holds,
        // and how many times a replica started it.
        Migration(
            id: "v2-export-leases",
            sqlite: [
                """
                ALTER TABLE export_jobs ADD COLUMN request TEXT;
                ALTER TABLE export_jobs ADD COLUMN runner TEXT;
                ALTER TABLE export_jobs ADD COLUMN lease_until INTEGER;
                ALTER TABLE export_jobs ADD COLUMN runs INTEGER NOT NULL DEFAULT 0;
                """
            ],
            postgres: [
                "ALTER TABLE export_jobs ADD COLUMN request TEXT",
                "ALTER TABLE export_jobs ADD COLUMN runner TEXT",
                "ALTER TABLE export_jobs ADD COLUMN lease_until BIGINT",
                "ALTER TABLE export_jobs ADD COLUMN runs BIGINT NOT NULL DEFAULT 0",
                "CREATE INDEX export_jobs_unfinished ON export_jobs(status, lease_until)",
            ]),
        // One row per nightly archiving pass, by whichever replica claimed it: when (wall-clock microseconds), who,
        // and how many records it archived (NULL while it runs, or when it failed). The last pass moves here from
        // `meta`, where earlier versions kept only its time.
        Migration(
            id: "v3-archiving-passes",
            sqlite: [
                """
                CREATE TABLE archiving_passes (
                    started_at INTEGER NOT NULL, replica TEXT NOT NULL, archived_records INTEGER,
                    PRIMARY KEY (started_at, replica));
                INSERT INTO archiving_passes (started_at, replica)
                    SELECT CAST(value AS INTEGER), 'unknown' FROM meta WHERE key = 'nightly_archived_at';
                DELETE FROM meta WHERE key = 'nightly_archived_at';
                """
            ],
            postgres: [
                #"""
                CREATE TABLE archiving_passes (
                    started_at BIGINT NOT NULL, replica TEXT COLLATE "C" NOT NULL, archived_records BIGINT,
                    PRIMARY KEY (started_at, replica))
                """#,
                """
                INSERT INTO archiving_passes (started_at, replica)
                    SELECT CAST(value AS BIGINT), 'unknown' FROM meta WHERE key = 'nightly_archived_at'
                """,
                "DELETE FROM meta WHERE key = 'nightly_archived_at'",
            ]),
    ]
}
