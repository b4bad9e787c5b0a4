import WireFormat

struct ExportJobRow: Sendable {
    var id: String
    var owner: String?
    var name: String
    var status: String
    var createdAt: Micros
    var key: String?
    var errorMessage: String?

    init(row: SQLRow) throws {
        id = try row.string("id")
        owner = try row.optionalString("owner")
        name = try row.string("name")
        status = try row.string("status")
        createdAt = try row.int64("created_at")
        key = try row.optionalString("key")
        errorMessage = try row.optionalString("error_message")
    }
}

/// A job a replica has taken: it runs it while it keeps renewing the lease.
struct ClaimedExport: Sendable {
    var id: String
    var request: String
}

extension Store {
    /// Records a job that no replica runs yet; `request` is what any replica needs to run it.
    func createExportJob(id: String, owner: String?, name: String, request: String, now: Micros) async throws {
        try await db.reader.execute(
            "INSERT INTO export_jobs (id, owner, name, status, created_at, request) VALUES (?, ?, ?, 'STARTED', ?, ?)",
            id, owner, name, now, request)
    }

    func exportJob(_ id: String) async throws -> ExportJobRow? {
        try await db.reader.row("SELECT * FROM export_jobs WHERE id = ?", id).map(ExportJobRow.init)
    }

    /// Takes one unfinished job whose lease has run out (or that nobody took), `id` or the oldest, for `runner`
    /// until `leaseUntil`. Replicas skip a row another is claiming, so each claim goes to exactly one of them.
    func claimExportJob(id: String? = nil, runner: String, wallNow: Micros, leaseUntil: Micros) async throws
        -> ClaimedExport?
    {
        try await db.transaction { db in
            var sql = """
                SELECT id, request FROM export_jobs
                WHERE status = 'STARTED' AND request IS NOT NULL AND (lease_until IS NULL OR lease_until < ?)
                """
            var arguments: [SQLValue] = [.int(wallNow)]
            if let id {
                sql += " AND id = ?"
                arguments.append(.text(id))
            }
            sql += " ORDER BY created_at LIMIT 1 \(db.dialect.claimRows)"
            guard let row = try await db.rows(sql, arguments).first else { return nil }
            let claimed = ClaimedExport(id: try row.string("id"), request: try row.string("request"))
            try await db.execute(
                "UPDATE export_jobs SET runner = ?, lease_until = ?, runs = runs + 1 WHERE id = ?",
                runner, leaseUntil, claimed.id)
            return claimed
        }
    }

    /// Extends the lease; false when the job is no longer this runner's (finished, or taken over).
    func renewExportLease(_ id: String, runner: String, leaseUntil: Micros) async throws -> Bool {
        try await db.transaction { db in
            let held = try await db.integer(
                "SELECT count(*) AS n FROM export_jobs WHERE id = ? AND runner = ? AND status = 'STARTED'", id, runner)
            guard held > 0 else { return false }
            try await db.execute("UPDATE export_jobs SET lease_until = ? WHERE id = ?", leaseUntil, id)
            return true
        }
    }

    /// Records the outcome, unless another runner has taken the job over meanwhile.
    func finishExportJob(_ id: String, runner: String, key: String?, errorMessage: String?) async throws {
        try await db.reader.execute(
            """
            UPDATE export_jobs SET status = ?, key = ?, error_message = ?, lease_until = NULL
            WHERE id = ? AND runner = ? AND status = 'STARTED'
            """,
            key == nil ? "FAILURE" : "SUCCESS", key, errorMessage, id, runner)
    }

    /// Jobs that were running when the (only) server stopped will never finish.
    func failInterruptedExports() async throws {
        try await db.reader.execute(
            """
            UPDATE export_jobs SET status = 'FAILURE', error_message = 'The server restarted during the export.'
            WHERE status IN ('PENDING', 'STARTED')
            """)
    }
}
