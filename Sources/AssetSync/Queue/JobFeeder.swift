/// Hands out the queue's active jobs to workers in batches, so that picking the next job costs
/// one indexed read per batch however long the queue is.
/// Runs `process` on every job the feeder hands out, `workers` at a time, and tallies the results.
/// The first error thrown stops every worker (the jobs stay in the queue, resumable).
func drain<Job: Sendable>(_ feeder: JobFeeder<Job>, workers: Int,
                          _ process: @escaping @Sendable (Job) async throws -> JobResult) async throws -> SyncSummary {
    let tally = Tally()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<max(1, workers) {
            group.addTask {
                while let job = try await feeder.next() {
                    try Task.checkCancellation()
                    await tally.add(try await process(job))
                }
            }
        }
        try await group.waitForAll()
    }
    return await tally.summary
}

actor JobFeeder<Job: Sendable> {
    private let load: @Sendable (_ afterID: Int64, _ limit: Int) throws -> [Job]
    private let id: @Sendable (Job) -> Int64
    private var buffer: [Job] = []
    private var lastID: Int64 = 0
    private var exhausted = false
    private let batchSize: Int

    init(batchSize: Int = 256, load: @escaping @Sendable (Int64, Int) throws -> [Job], id: @escaping @Sendable (Job) -> Int64) {
        self.batchSize = batchSize
        self.load = load
        self.id = id
    }

    /// Hands out nothing more: workers finish the job they hold and stop.
    func stop() {
        buffer = []
        exhausted = true
    }

    func next() throws -> Job? {
        if buffer.isEmpty && !exhausted {
            let batch = try load(lastID, batchSize)
            if batch.count < batchSize { exhausted = true }
            if let last = batch.last { lastID = id(last) }
            buffer = batch.reversed()
        }
        return buffer.popLast()
    }
}
