import Foundation

/// The queue's own costs with the network taken out, for `scripts/bench queue`: enqueueing a tree
/// as a push does (sorted walk, each file opened once to check it can be read, one transaction per
/// batch), draining it through every lifecycle commit against a server that answers at once, and the
/// time to pick the next job.
public enum QueueBenchmark {
    /// Walks `folder` and queues every file the way ``Pusher`` does (content hashed later, by the upload;
    /// one transaction per batch), without holding the tree; returns how many were queued.
    public static func enqueue(folder: String, store: StateStore) throws -> Int {
        var batch: [(file: LocalFile, digest: FileDigest?)] = []
        var queued = 0
        func flush() throws {
            try store.enqueuePushes(batch)
            queued += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        _ = try SortedWalk(root: folder, rules: IgnoreRules()).run { file in
            try Pusher.checkReadable(folder + "/" + file.path)
            batch.append((file, nil))
            if batch.count == Pusher.enqueueBatch { try flush() }
        }
        if !batch.isEmpty { try flush() }
        return queued
    }

    /// Runs every active push job through create, upload, mark and verify with steps that succeed
    /// at once: each transition is committed before its step, as ``PushRunner`` does.
    public static func drain(store: StateStore, workers: Int) async throws -> Int {
        let feeder = JobFeeder<PushJob>(load: { try store.activePushJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
        let summary = try await AssetSync.drain(feeder, workers: workers) { start in
            var job = start
            while let step = PushLifecycle.nextStep(from: job.state) {
                try store.commit(&job, state: step.runningState)
                switch step {
                case .create:
                    job.assetId = "stub-\(job.id ?? 0)"
                    job.uploadUrl = "http://127.0.0.1:9/upload"
                    job.uploadFields = "[]"
                    job.issuedAt = Date()
                case .upload:
                    // What the upload learns as it sends: the MD5 of the bytes, which storage's ETag matches.
                    job.md5 = String(repeating: "0", count: 32)
                    job.etag = job.md5
                case .mark:
                    break
                case .verify:
                    try store.finish(&job)
                    continue
                }
                job.state = step.finishedState
            }
            return .done(bytes: job.size, retries: 0)
        }
        return summary.done
    }

    /// The median time of one pick of the next batch of active jobs (what a worker waits for when
    /// its feeder runs dry), at `samples` positions spread over the queue, divided by the batch.
    public static func timeToPickNext(store: StateStore, samples: Int = 200, batch: Int = 256) throws -> Duration {
        let first = try store.activePushJobs(after: 0, limit: 1).first.map { $0.id ?? 0 } ?? 0
        let last = try store.lastPushJobID()
        var times: [Duration] = []
        let clock = ContinuousClock()
        for sample in 0..<samples {
            let after = first + (last - first) * Int64(sample) / Int64(max(1, samples))
            let elapsed = try clock.measure { _ = try store.activePushJobs(after: after, limit: batch) }
            times.append(elapsed / batch)
        }
        times.sort()
        return times[times.count / 2]
    }
}
