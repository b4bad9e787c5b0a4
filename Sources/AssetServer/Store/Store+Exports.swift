import GRDB
import WireFormat

struct ExportJobRow: Sendable {
    var id: String
    var owner: String?
    var name: String
    var status: String
    var createdAt: Micros
    var key: String?
    var errorMessage: String?

    init(row: Row) {
        id = row["id"]
        owner = row["owner"]
        name = row["name"]
        status = row["status"]
        createdAt = row["created_at"]
        key = row["key"]
        errorMessage = row["error_message"]
    }
}

extension Store {
    func createExportJob(id: String, owner: String?, name: String, now: Micros) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO export_jobs (id, owner, name, status, created_at) VALUES (?, ?, ?, 'STARTED', ?)",
                arguments: [id, owner, name, now])
        }
    }

    func exportJob(_ id: String) throws -> ExportJobRow? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM export_jobs WHERE id = ?", arguments: [id]).map(ExportJobRow.init)
        }
    }

    func finishExportJob(_ id: String, key: String?, errorMessage: String?) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE export_jobs SET status = ?, key = ?, error_message = ? WHERE id = ?",
                arguments: [key == nil ? "FAILURE" : "SUCCESS", key, errorMessage, id])
        }
    }

    /// Jobs that were running when the server stopped will never finish.
    func failInterruptedExports() throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE export_jobs SET status = 'FAILURE', error_message = 'The server restarted during the export.'
                    WHERE status IN ('PENDING', 'STARTED')
                    """)
        }
    }
}
