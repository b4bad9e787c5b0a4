/// Hands out the queue's active jobs to workers in batches, so that picking the next job costs
/// one indexed read per batch however long the queue is.
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
