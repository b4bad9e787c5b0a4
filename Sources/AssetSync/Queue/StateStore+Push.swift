import Foundation
import GRDB

extension StateStore {
    /// Queues a file's content for upload. An active job for the same path keeps its progress when
    /// the content is the same, and starts over (its asset, if any, becomes an orphan) when not.
    ///
    /// With no `digest`, the upload hashes the bytes as it sends them. That is only for a path whose
    /// queued jobs carry no hash to compare with (see ``pathsWithHashedJobs(_:)``): a job whose content is
    /// still unhashed has sent nothing that counts yet, so it simply takes the file as it now is.
    public func enqueuePush(_ file: LocalFile, digest: FileDigest?) throws {
        try enqueuePushes([(file, digest)])
    }

    /// Queues many files in one transaction.
    public func enqueuePushes(_ files: [(file: LocalFile, digest: FileDigest?)]) throws {
        try pool.write { db in
            for (file, digest) in files { try Self.enqueue(file, digest: digest, db: db) }
        }
    }

    /// Of these paths, those with an active or failed job that carries its content's hash: a new enqueue of
    /// them needs the file's hash to tell "the same content, touched" from "new content".
    public func pathsWithHashedJobs(_ paths: [String]) throws -> Set<String> {
        try pool.read { db in
            var found: Set<String> = []
            for chunk in stride(from: 0, to: paths.count, by: 500).map({ paths[$0..<min($0 + 500, paths.count)] }) {
                let rows = try String.fetchAll(db, PushJob.select(Column("path"))
                    .filter(chunk.contains(Column("path"))).filter(Column("md5") != "")
                    .filter(Column("state") != PushState.done))
                found.formUnion(rows)
            }
            return found
        }
    }

    private static func enqueue(_ file: LocalFile, digest: FileDigest?, db: GRDB.Database) throws {
        let now = Date()
        let failed = try PushJob.filter(Column("path") == file.path).filter(Column("state") == PushState.failed)
            .order(Column("id").desc).fetchAll(db)
        try PushJob.filter(Column("path") == file.path).filter(Column("state") == PushState.failed).deleteAll(db)
        if var active = try PushJob.filter(Column("path") == file.path)
            .filter(PushState.active.contains(Column("state"))).fetchOne(db) {
            if !active.contentKnown {
                // Its content is hashed as it is sent: nothing sent so far is kept, so it takes the file as it is.
                active.size = digest?.size ?? file.size
                active.takeStamps(of: file, at: now)
                if let digest { active.take(digest) }
                try active.update(db)
                return
            }
            if let digest, active.md5 == digest.md5 && active.size == digest.size {
                if active.mtimeNs != file.mtimeNs || active.inode != file.inode || active.ctimeNs != file.ctimeNs {
                    active.takeStamps(of: file, at: now)
                    try active.update(db)
                }
                return
            }
            active.inode = file.inode
            active.ctimeNs = file.ctimeNs
            if digest == nil { active.forgetContent() }
            try restart(&active, size: digest?.size ?? file.size, mtimeNs: file.mtimeNs, digest: digest,
                        reason: "the file changed before its upload finished", db: db)
            return
        }
        if var revived = failed.first, let state = revived.failedState, let digest, revived.contentKnown,
           revived.md5 == digest.md5, revived.size == digest.size {
            // The same content failed before: go on where it stopped. A fresh create could duplicate an
            // asset whose mark was saved although its answer was lost.
            revived.id = nil
            revived.state = state
            revived.failedState = nil
            revived.error = nil
            revived.takeStamps(of: file, at: now)
            try revived.insert(db)
            return
        }
        var job = PushJob(id: nil, path: file.path, size: digest?.size ?? file.size, mtimeNs: file.mtimeNs,
                          md5: digest?.md5 ?? "", sha256: digest?.sha256 ?? "", state: .queued, inode: file.inode,
                          ctimeNs: file.ctimeNs, recreations: 0, createdAt: now, updatedAt: now)
        try job.insert(db)
    }

    /// Records a file that cannot be pushed at all (unreadable, bad name) as a failed job.
    public func recordUnpushable(path: String, size: Int64, mtimeNs: Int64, reason: String) throws {
        try pool.write { db in
            let now = Date()
            try PushJob.filter(Column("path") == path).filter(Column("state") != PushState.done).deleteAll(db)
            var job = PushJob(id: nil, path: path, size: size, mtimeNs: mtimeNs, md5: "", sha256: "", state: .failed,
                              recreations: 0, error: reason, failedState: .queued, createdAt: now, updatedAt: now)
            try job.insert(db)
        }
    }

    /// Active jobs with an id above `id`, oldest first: the scheduler's next batch.
    public func activePushJobs(after id: Int64, limit: Int) throws -> [PushJob] {
        try pool.read { db in try Self.activePushJobsRequest(after: id, limit: limit).fetchAll(db) }
    }

    static func activePushJobsRequest(after id: Int64, limit: Int) -> QueryInterfaceRequest<PushJob> {
        // `+state` keeps SQLite off the (state, id) index, which would gather and sort every active job
        // for each batch: walking the primary key from `id` finds the next ones at once.
        PushJob.filter(literal: "+state IN \(PushState.active.map(\.rawValue))").filter(Column("id") > id)
            .order(Column("id")).limit(limit)
    }

    public func activePushJobs() throws -> [String: PushJob] { try activeJobsByPath(of: PushJob.self) }

    /// Commits a job's new state with the changes made to it.
    public func commit(_ job: inout PushJob, state: PushState) throws {
        try commitState(&job, state)
        // A rolled-back `creating` would create a second asset; `uploading` and `marking` hold what
        // the steps before learned.
        if state == .creating || state == .uploading || state == .marking { try makeDurable() }
    }

    /// Commits `done` and the manifest entry in one transaction.
    public func finish(_ job: inout PushJob) throws {
        job.state = .done
        job.error = nil
        job.updatedAt = Date()
        let copy = job
        try transitions.write { db in
            try copy.updateRow(db)
            try ManifestEntry(path: copy.path, size: copy.size, mtimeNs: copy.mtimeNs, md5: copy.md5,
                              sha256: copy.sha256.isEmpty ? nil : copy.sha256,
                              assetId: copy.assetId ?? "", etag: copy.etag, syncedAt: copy.updatedAt,
                              inode: copy.inode, ctimeNs: copy.ctimeNs, origin: .push).save(db)
        }
    }

    public func fail(_ job: inout PushJob, reason: String) throws {
        job.failedState = job.state
        job.error = reason
        try commit(&job, state: .failed)
    }

    /// Starts a job over with the file's current content; its asset, if any, becomes an orphan. With no
    /// `digest`, the next upload hashes the content as it sends it.
    public func restart(_ job: inout PushJob, size: Int64, mtimeNs: Int64, digest: FileDigest?, reason: String) throws {
        var copy = job
        if digest == nil { copy.forgetContent() }
        try pool.write { db in try Self.restart(&copy, size: size, mtimeNs: mtimeNs, digest: digest, reason: reason, db: db) }
        job = copy
    }

    private static func restart(_ job: inout PushJob, size: Int64, mtimeNs: Int64, digest: FileDigest?, reason: String,
                                db: GRDB.Database) throws {
        if let assetId = job.assetId {
            var orphan = Orphan(id: nil, path: job.path, assetId: assetId, reason: reason, createdAt: Date())
            try orphan.insert(db)
        }
        job.size = size
        job.mtimeNs = mtimeNs
        if let digest { job.take(digest) }
        job.state = .queued
        job.assetId = nil
        job.uploadUrl = nil
        job.uploadFields = nil
        job.issuedAt = nil
        job.etag = nil
        job.error = nil
        job.updatedAt = Date()
        try job.update(db)
    }

    /// Drops a job's upload URL so that the next step creates a fresh asset (the old one is an orphan).
    public func recreate(_ job: inout PushJob, reason: String) throws {
        var copy = job
        try pool.write { db in
            let recreations = copy.recreations + 1
            try Self.restart(&copy, size: copy.size, mtimeNs: copy.mtimeNs, digest: nil, reason: reason, db: db)
            copy.recreations = recreations
            try copy.update(db)
        }
        job = copy
    }

    public func recordOrphan(path: String, assetId: String?, reason: String) throws {
        try pool.write { db in
            var orphan = Orphan(id: nil, path: path, assetId: assetId, reason: reason, createdAt: Date())
            try orphan.insert(db)
        }
    }

    /// Puts failed push jobs back where they failed; returns how many.
    public func retryFailedPushes() throws -> Int {
        try pool.write { db in
            let failed = try PushJob.filter(Column("state") == PushState.failed).fetchAll(db)
            var count = 0
            for var job in failed {
                let busy = try PushJob.filter(Column("path") == job.path)
                    .filter(PushState.active.contains(Column("state"))).fetchCount(db) > 0
                if busy {
                    try job.delete(db)
                    continue
                }
                job.requeue()
                try job.update(db)
                count += 1
            }
            return count
        }
    }

    /// The highest push job id (0 for an empty queue).
    public func lastPushJobID() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM push_jobs") ?? 0 }
    }

    public func pushCounts() throws -> [PushState: Int] { try stateCounts(of: PushJob.self) }

    public func failedPushes() throws -> [PushJob] { try failedJobs(of: PushJob.self) }

    public func pruneDonePushes() throws { try pruneDoneJobs(of: PushJob.self) }
}
