import Foundation
import GRDB

/// Commits the writes of concurrent callers in one transaction (group commit): the first caller
/// to find no commit running takes every write queued so far and runs them together; the others
/// wait. Each caller returns only once its own write is committed, so "commit before the step"
/// holds for every caller, and the queue pays one transaction for several jobs' transitions.
///
/// `@unchecked Sendable`: `queue`, `results`, `committing` and `nextTicket` are touched only under
/// `condition`; the writes themselves run inside the pool's serialized writer.
final class GroupCommit: @unchecked Sendable {
    typealias Write = (GRDB.Database) throws -> Void

    private let pool: DatabasePool
    private let condition = NSCondition()
    private var queue: [(ticket: UInt64, write: Write)] = []
    private var results: [UInt64: (any Error)?] = [:]
    private var committing = false
    private var nextTicket: UInt64 = 0
    /// Transactions run and writes committed, for tests and benchmarks.
    private(set) var transactions = 0
    private(set) var writes = 0

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `write` in a transaction, possibly shared with other callers' writes; returns once committed.
    func write(_ write: @escaping Write) throws {
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        queue.append((ticket, write))
        while true {
            if let result = results.removeValue(forKey: ticket) {
                condition.unlock()
                if let result { throw result }
                return
            }
            if !committing {
                committing = true
                let batch = queue
                queue.removeAll(keepingCapacity: true)
                condition.unlock()
                let outcomes = commit(batch)
                condition.lock()
                for (ticket, outcome) in outcomes { results[ticket] = outcome }
                committing = false
                condition.broadcast()
                continue
            }
            condition.wait()
        }
    }

    /// One transaction for the batch; if it fails, each write alone, so that one bad write fails only its caller.
    private func commit(_ batch: [(ticket: UInt64, write: Write)]) -> [(UInt64, (any Error)?)] {
        do {
            try pool.write { db in
                for item in batch { try item.write(db) }
            }
            condition.withLock {
                transactions += 1
                writes += batch.count
            }
            return batch.map { ($0.ticket, nil) }
        } catch {
            guard batch.count > 1 else { return [(batch[0].ticket, error)] }
            return batch.map { item in
                do {
                    try pool.write { db in try item.write(db) }
                    condition.withLock {
                        transactions += 1
                        writes += 1
                    }
                    return (item.ticket, nil)
                } catch {
                    return (item.ticket, error)
                }
            }
        }
    }

    var counts: (transactions: Int, writes: Int) { condition.withLock { (transactions, writes) } }
}
