/// Runs statements written once for both backends: `?` placeholders, values only as parameters.
protocol SQLExecutor: Sendable {
    var dialect: SQLDialect { get }
    func execute(_ sql: String, _ arguments: [SQLValue]) async throws
    func rows(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow]
}

extension SQLExecutor {
    func execute(_ sql: String, _ arguments: any SQLBindable...) async throws {
        try await execute(sql, arguments.map(\.sqlValue))
    }

    func rows(_ sql: String, _ arguments: any SQLBindable...) async throws -> [SQLRow] {
        try await rows(sql, arguments.map(\.sqlValue))
    }

    func row(_ sql: String, _ arguments: any SQLBindable...) async throws -> SQLRow? {
        try await rows(sql, arguments.map(\.sqlValue)).first
    }

    /// The first column of the first row, as an integer (counts, `EXISTS`).
    func integer(_ sql: String, _ arguments: any SQLBindable...) async throws -> Int64 {
        guard let row = try await rows(sql, arguments.map(\.sqlValue)).first, row.values.count == 1,
            let column = row.values.keys.first
        else { throw SQLRowError(column: "?", problem: "expected one value") }
        return try row.int64(column)
    }

    /// Waits for the cluster-wide lock `key` until the transaction ends (replicas on PostgreSQL; SQLite's write
    /// transaction is already exclusive).
    func lockForTransaction(_ key: AdvisoryLock) async throws {
        guard dialect == .postgres else { return }
        try await execute("SELECT pg_advisory_xact_lock(?)", key.rawValue)
    }

    /// Takes the cluster-wide lock `key` until the transaction ends, or answers false at once when another holds it.
    func tryLockForTransaction(_ key: AdvisoryLock) async throws -> Bool {
        guard dialect == .postgres else { return true }
        return try await integer("SELECT CASE WHEN pg_try_advisory_xact_lock(?) THEN 1 ELSE 0 END AS locked", key.rawValue)
            == 1
    }
}

/// Keys of PostgreSQL advisory locks, one per job that must run on one replica at a time.
struct AdvisoryLock: Sendable {
    var rawValue: Int64

    /// Schema migrations at start.
    static let migrations = AdvisoryLock(rawValue: 0x6173_7365_7473_0001)
    /// The nightly archiving pass.
    static let nightlyArchiving = AdvisoryLock(rawValue: 0x6173_7365_7473_0002)

    /// Archiving one database (by hand or nightly): a stable 64-bit hash of its id (FNV-1a).
    static func archiving(database id: String) -> AdvisoryLock {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return AdvisoryLock(rawValue: Int64(bitPattern: hash))
    }
}

/// Where the server's metadata lives: SQLite in the data folder, or PostgreSQL shared by replicas.
protocol MetadataDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Statements outside a transaction, each on its own.
    var reader: any SQLExecutor { get }
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// Closes the connections; nothing may be called after.
    func close() async
}
