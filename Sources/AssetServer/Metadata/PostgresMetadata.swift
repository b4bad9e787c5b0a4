import WireFormat
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// Metadata in PostgreSQL, shared by every replica that is given the same URL.
final class PostgresMetadata: MetadataDatabase {
    let client: PostgresClient
    let dialect = SQLDialect.postgres
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Connects, creates the schema named in the URL if missing, and applies the migrations under an advisory lock.
    init(_ location: MetadataLocation.Postgres, logger: Logger) async throws {
        let tls = location.requireTLS ? Self.requiredTLS() : nil
        // One connection of its own first: the pool retries a refused or failed connection forever (also a server
        // without TLS under sslmode=require), while a server that cannot reach its database should stop and say why.
        do {
            let probe = try await PostgresConnection.connect(
                configuration: .init(
                    host: location.host, port: location.port, username: location.user,
                    password: location.password, database: location.database,
                    tls: try tls.map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable),
                id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw MetadataError(description: "PostgreSQL at \(location.redacted): \(Self.describe(error))")
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls.map { .require($0) } ?? .disable)
        if let schema = location.schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        configuration.options.maximumConnections = 32
        let client = PostgresClient(configuration: configuration)
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
        do {
            if let schema = location.schema {
                // An identifier cannot be a parameter; `MetadataLocation` allows only [a-z0-9_] here.
                try await reader.execute("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"", [])
            }
            try await migrate()
        } catch {
            runner.cancel()
            throw MetadataError(description: "PostgreSQL at \(location.redacted): \(Self.describe(error))")
        }
    }

    private func migrate() async throws {
        try await transaction { db in
            try await db.lockForTransaction(.migrations)
            try await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)", [])
            let applied = Set(try await db.rows("SELECT id FROM schema_migrations", []).map { try $0.string("id") })
            for migration in MetadataSchema.migrations where !applied.contains(migration.id) {
                for statement in migration.postgres { try await db.execute(statement, []) }
                try await db.execute(
                    "INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)", migration.id,
                    Timestamp.micros(Date()))
            }
        }
    }

    var reader: any SQLExecutor { PooledExecutor(client: client, logger: logger) }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        // Replicas race on the same rows (two creates of one new record): a unique violation, deadlock or
        // serialization failure is retried a few times, as a whole transaction.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await client.withConnection { connection in
                    let executor = ConnectionExecutor(connection: connection, logger: logger)
                    try await executor.execute("BEGIN", [])
                    do {
                        let result = try await body(executor)
                        try await executor.execute("COMMIT", [])
                        return result
                    } catch {
                        try? await executor.execute("ROLLBACK", [])
                        throw error
                    }
                }
            } catch let error as PSQLError where attempt < 4 && Self.isRetryable(error) {
                continue
            }
        }
    }

    /// `sslmode=require` as libpq means it: the connection is encrypted, the server's certificate is not checked
    /// (a cluster's self-signed one is the common case; checking it would be `verify-full`).
    static func requiredTLS() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }

    /// What went wrong, in the server's words when it sent any (PSQLError's description hides them).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if error.code == .sslUnsupported {
            return "the server does not accept TLS connections, which sslmode=require asks for"
        }
        if error.code == .failedToAddSSLHandler || error.underlying is NIOSSLError {
            return "the TLS handshake failed (sslmode=require): \(error.underlying.map { "\($0)" } ?? "\(error.code)")"
        }
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        return error.underlying.map { "\($0)" } ?? "\(error.code)"
    }

    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return ["23505", "40001", "40P01"].contains(state)
    }

    func close() async {
        runner.cancel()
        _ = await runner.value
    }

    static func query(_ sql: String, _ arguments: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .int(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .bool(let flag): bindings.append(flag)
            }
        }
        return PostgresQuery(unsafeSQL: SQLDialect.postgres.numberingPlaceholders(sql), binds: bindings)
    }

    static func collect(_ sequence: PostgresRowSequence) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for try await row in sequence {
            var values: [String: SQLValue] = [:]
            for cell in row {
                values[cell.columnName] = try value(cell)
            }
            rows.append(SQLRow(values: values))
        }
        return rows
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        case .numeric: return .text(try cell.decode(Decimal.self).description)
        default: return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }

    /// Each statement on whichever pooled connection is free (autocommit).
    private struct PooledExecutor: SQLExecutor {
        let client: PostgresClient
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
            let rows = try await client.query(PostgresMetadata.query(sql, arguments), logger: logger)
            for try await _ in rows {}
        }

        func rows(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
            try await PostgresMetadata.collect(client.query(PostgresMetadata.query(sql, arguments), logger: logger))
        }
    }

    /// Statements on the one connection that holds the transaction.
    private struct ConnectionExecutor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
            let rows = try await connection.query(PostgresMetadata.query(sql, arguments), logger: logger)
            for try await _ in rows {}
        }

        func rows(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
            try await PostgresMetadata.collect(connection.query(PostgresMetadata.query(sql, arguments), logger: logger))
        }
    }
}

struct MetadataError: Error, CustomStringConvertible {
    var description: String
}
