import Foundation
import GRDB

/// Metadata in `server.sqlite` in the data folder (WAL, through a GRDB pool): the single-process default.
final class SQLiteMetadata: MetadataDatabase {
    let pool: DatabasePool
    private let writers = AsyncMutex()
    let dialect = SQLDialect.sqlite

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        // A transaction spans several writer accesses (one per statement, with awaits between), serialized by
        // `writers`; GRDB would otherwise refuse a transaction left open at the end of an access.
        configuration.allowsUnsafeTransactions = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // SQLite gives -wal and -shm the database file's mode: a 0600 database keeps all three private.
        let database = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if database >= 0 {
            fchmod(database, 0o600)
            Glibc.close(database)
        }
        for suffix in ["-wal", "-shm"] { chmod(path + suffix, 0o600) }
        pool = try DatabasePool(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        for migration in MetadataSchema.migrations {
            migrator.registerMigration(migration.id) { db in
                for statement in migration.sqlite { try db.execute(sql: statement) }
            }
        }
        try migrator.migrate(pool)
    }

    var reader: any SQLExecutor { Reader(pool: pool, writers: writers) }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        await writers.lock()
        do {
            let writer = Writer(pool: pool)
            try await writer.execute("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(writer)
                try await writer.execute("COMMIT", [])
                await writers.unlock()
                return result
            } catch {
                try? await writer.execute("ROLLBACK", [])
                throw error
            }
        } catch {
            await writers.unlock()
            throw error
        }
    }

    func close() async {
        try? pool.close()
    }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .null: nil
                case .int(let number): number
                case .text(let text): text
                case .bool(let flag): flag
                }
            })
    }

    static func row(_ row: Row) -> SQLRow {
        var values: [String: SQLValue] = [:]
        for (column, value) in row {
            switch value.storage {
            case .null: values[column] = .null
            case .int64(let number): values[column] = .int(number)
            case .double(let number): values[column] = Int64(exactly: number).map(SQLValue.int) ?? .text("\(number)")
            case .string(let text): values[column] = .text(text)
            case .blob(let data): values[column] = .text(String(decoding: data, as: UTF8.self))
            }
        }
        return SQLRow(values: values)
    }

    /// Each statement on a reader connection, in its own snapshot.
    private struct Reader: SQLExecutor {
        let pool: DatabasePool
        let writers: AsyncMutex
        var dialect: SQLDialect { .sqlite }

        /// A write outside `transaction` still waits for the open transaction, or it would land inside it.
        func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
            await writers.lock()
            do {
                try await pool.writeWithoutTransaction { db in
                    try db.execute(sql: sql, arguments: SQLiteMetadata.arguments(arguments))
                }
                await writers.unlock()
            } catch {
                await writers.unlock()
                throw error
            }
        }

        func rows(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
            try await pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: SQLiteMetadata.arguments(arguments)).map(SQLiteMetadata.row)
            }
        }
    }

    /// Statements on the writer connection, inside the transaction that `writers` guards.
    private struct Writer: SQLExecutor {
        let pool: DatabasePool
        var dialect: SQLDialect { .sqlite }

        func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
            try await pool.writeWithoutTransaction { db in try db.execute(sql: sql, arguments: SQLiteMetadata.arguments(arguments)) }
        }

        func rows(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
            try await pool.writeWithoutTransaction { db in
                try Row.fetchAll(db, sql: sql, arguments: SQLiteMetadata.arguments(arguments)).map(SQLiteMetadata.row)
            }
        }
    }
}
