import GRDB

// Transitions rewrite a job's row through one cached statement. The profile of a small-file push
// (and of the queue bench's drain) showed GRDB's Codable path (snake_case key conversion,
// dictionary hashing, dynamic casts) as the client's largest CPU cost per transition.

extension PushJob {
    /// Writes every column of the row with this job's id.
    func updateRow(_ db: GRDB.Database) throws {
        let statement = try db.cachedStatement(sql: """
            UPDATE push_jobs SET path = ?, size = ?, mtime_ns = ?, md5 = ?, sha256 = ?, state = ?, asset_id = ?,
            upload_url = ?, upload_fields = ?, issued_at = ?, etag = ?, inode = ?, recreations = ?, error = ?,
            failed_state = ?, created_at = ?, updated_at = ? WHERE id = ?
            """)
        try statement.execute(arguments: [path, size, mtimeNs, md5, sha256, state, assetId, uploadUrl, uploadFields,
                                          issuedAt, etag, inode, recreations, error, failedState, createdAt, updatedAt, id])
        guard db.changesCount == 1 else { throw RecordError.recordNotFound(databaseTableName: "push_jobs", key: ["id": id.databaseValue]) }
    }
}

extension PullJob {
    /// Writes every column of the row with this job's id.
    func updateRow(_ db: GRDB.Database) throws {
        let statement = try db.cachedStatement(sql: """
            UPDATE pull_jobs SET path = ?, asset_id = ?, state = ?, bytes = ?, size = ?, etag = ?, error = ?,
            failed_state = ?, created_at = ?, updated_at = ? WHERE id = ?
            """)
        try statement.execute(arguments: [path, assetId, state, bytes, size, etag, error, failedState, createdAt,
                                          updatedAt, id])
        guard db.changesCount == 1 else { throw RecordError.recordNotFound(databaseTableName: "pull_jobs", key: ["id": id.databaseValue]) }
    }
}
