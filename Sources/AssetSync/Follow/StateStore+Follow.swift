import Foundation
import GRDB

extension StateStore {
    /// Pull jobs still to finish (counted on the index of active jobs).
    public func activePullCount() throws -> Int {
        try pool.unsafeRead { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM pull_jobs WHERE state NOT IN ('done', 'failed')"))
                ?? 0
        }
    }
}
