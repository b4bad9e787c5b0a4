import CoreMetrics
import Foundation
import Logging
import PixieBrix

/// A drop folder: uploads each file that lands in the folder once it is complete, with the push
/// lifecycle and the same durable queue as `assets push`, until ``shutdown()``.
///
/// inotify watches every folder of the tree (new ones as they appear, their content scanned since
/// files may land before the watch); ``SettleTracker`` decides when a file is complete; complete
/// files are hashed and enqueued; `transfers` workers run the queue's jobs through ``PushRunner``'s
/// lifecycle. A startup scan against the manifest picks up what arrived while the service was
/// down, and jobs in flight when it stopped resume where they were. A queue overflow, and every
/// `rescan` seconds, trigger a full rescan.
///
/// ```swift
/// let service = WatchService(folder: inbox, database: id, client: client, store: store)
/// let running = Task { try await service.run() }
/// // later, on SIGTERM:
/// service.shutdown()
/// try await running.value
/// ```
public final class WatchService: Sendable {
    public let folder: String
    public let database: String
    public let client: PixieBrixClient
    public let store: StateStore
    public let options: WatchOptions
    let reporter: any SyncReporter
    let logger: Logger
    let metrics: WatchMetrics
    let control = AsyncStream<Input>.makeStream()
    let statusBox = Locked(WatchStatus())
    /// When each queued file became complete, for the latency metric.
    private let readySince = Locked([String: UInt64]())

    enum Input: Sendable {
        case events(Inotify.Batch)
        /// A file changed while it was being hashed: it settles again.
        case changed(String)
        case tick
        case rescan
        case failed(any Error)
        case shutdown
    }

    /// A complete file on its way to the queue.
    struct ReadyFile: Sendable {
        var path: String
        /// `DispatchTime` uptime in nanoseconds when it was found complete.
        var since: UInt64
    }

    /// - Parameters:
    ///   - folder: the absolute path of the folder to watch.
    ///   - reporter: receives the lifecycle's events (the CLI's `--json` lines).
    ///   - logger: one line per file at info level: uploaded, failed, unreadable.
    ///   - metricsFactory: where metrics go (swift-metrics' global factory by default).
    public init(folder: String, database: String, client: PixieBrixClient, store: StateStore,
                options: WatchOptions = WatchOptions(), reporter: any SyncReporter = SilentReporter(),
                logger: Logger = .silent("assets.watch"), metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.folder = folder
        self.database = database
        self.client = client
        self.store = store
        var options = options
        if options.ignoreTemporaryNames { options.push.exclude += WatchOptions.temporaryNamePatterns }
        self.options = options
        self.logger = logger
        let metrics = WatchMetrics(factory: metricsFactory)
        self.metrics = metrics
        self.reporter = StepTimingReporter(forward: reporter, metrics: metrics)
    }

    /// Stops taking new work: files in flight get `grace` seconds to finish, the rest stays queued
    /// for the next start, and ``run()`` returns.
    public func shutdown() {
        control.continuation.yield(.shutdown)
    }

    /// The service's state now, for a health check.
    public func status() -> WatchStatus {
        statusBox.value
    }

    /// Watches and uploads until ``shutdown()``; call once.
    ///
    /// - Throws: ``SyncError`` when the folder cannot be watched (the inotify watch limit among
    ///   the reasons), the state file fails, or the server refuses the token.
    public func run() async throws {
        let scheduler = JobScheduler(store: store)
        let ready = AsyncStream<ReadyFile>.makeStream()
        let planner = PushPlanner(folder: folder, database: database, client: client, store: store, options: options.push)
        var loop = try WatchControlLoop(service: self, planner: planner, scheduler: scheduler, ready: ready.continuation)
        let inotify = loop.watcher.inotify
        defer { inotify.close() }
        let control = self.control.continuation
        loop.watcher.startReading { control.yield(.events($0)) }

        try store.pruneDonePushes()
        try await loop.fullScan(reason: "startup")
        let active = try store.activePushCount()
        logger.info("watching", metadata: ["folder": "\(folder)", "folders": "\(loop.watcher.count)",
                                           "settling": "\(loop.tracker.count)", "queued": "\(active)"])

        let workers = Task { [self] in
            do {
                try await runWorkers(scheduler: scheduler, ready: ready.continuation)
            } catch {
                control.yield(.failed(error))
            }
        }
        let enqueuer = Task { [self] in
            for await file in ready.stream {
                do {
                    try await enqueue(file, scheduler: scheduler)
                } catch {
                    control.yield(.failed(error))
                    return
                }
            }
        }
        // Ticks end settle windows and wake the scheduler for retries (closed files need no tick).
        let tickInterval = 0.1
        let timers = Task { [options] in
            var sinceRescan = 0.0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(tickInterval))
                control.yield(.tick)
                sinceRescan += tickInterval
                if sinceRescan >= options.rescan {
                    sinceRescan = 0
                    control.yield(.rescan)
                }
            }
        }

        var failure: (any Error)?
        do {
            try await loop.run()
        } catch {
            failure = error
        }

        // Stop taking new work; let what is in flight finish within the grace period.
        statusBox.update { $0.state = "draining" }
        timers.cancel()
        enqueuer.cancel()
        ready.continuation.finish()
        inotify.close()
        await scheduler.drain()
        let inFlight = await scheduler.inFlightCount
        if inFlight > 0 {
            logger.info("stopping: waiting for files in flight", metadata: ["files": "\(inFlight)",
                                                                            "grace": "\(options.grace)s"])
        }
        let grace = options.grace
        let deadline = Task {
            try await Task.sleep(for: .seconds(grace))
            workers.cancel()
        }
        await workers.value
        deadline.cancel()
        if let failure { throw failure }
        let left = try store.activePushCount()
        logger.info("stopped", metadata: ["queued": "\(left)"])
    }

    // MARK: Workers

    private func runWorkers(scheduler: JobScheduler, ready: AsyncStream<ReadyFile>.Continuation) async throws {
        let runner = PushRunner(folder: folder, database: database, client: client, store: store,
                                options: options.push, reporter: reporter, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, options.push.transfers) {
                group.addTask { [self] in
                    while let job = try await scheduler.next() {
                        do {
                            _ = try await runner.process(job)
                        } catch let error as SyncError where error.kind == .api(.unreachable) {
                            let delay = await scheduler.serverUnreachable(job)
                            metrics.retries.increment()
                            statusBox.update { $0.lastError = error.message }
                            logger.warning("server unreachable; retrying", metadata: [
                                "file": "\(job.path)", "in": "\(Int(delay))s", "reason": "\(error.message)"])
                            continue
                        } catch let error as SyncError where error.kind == .api(.cancelled) {
                            return
                        }
                        let (outcome, recheck) = try await scheduler.finished(job)
                        record(outcome)
                        if let recheck { ready.yield(ReadyFile(path: recheck, since: DispatchTime.now().uptimeNanoseconds)) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// One log line, and the metrics, for how a job's run ended.
    private func record(_ outcome: JobScheduler.Outcome) {
        switch outcome {
        case .done(let job):
            metrics.done.increment()
            metrics.bytes.increment(by: job.size)
            var seconds = ""
            if let since = readySince.update({ $0.removeValue(forKey: job.path) }) {
                let elapsed = DispatchTime.now().uptimeNanoseconds - since
                metrics.fileLatency.recordNanoseconds(Int64(elapsed))
                seconds = String(format: "%.3f", Double(elapsed) / 1e9)
            }
            statusBox.update { $0.done += 1 }
            logger.info("uploaded", metadata: ["file": "\(job.path)", "bytes": "\(job.size)",
                                               "asset": "\(job.assetId ?? "?")", "seconds": "\(seconds)"])
        case .failed(let job):
            metrics.failed.increment()
            _ = readySince.update { $0.removeValue(forKey: job.path) }
            statusBox.update {
                $0.failed += 1
                $0.lastError = job.error
            }
            logger.warning("failed", metadata: ["file": "\(job.path)", "reason": "\(job.error ?? "unknown")"])
        case .retrying(let job, let delay):
            metrics.retries.increment()
            statusBox.update { $0.lastError = job?.error }
            logger.warning("failed for now; retrying", metadata: [
                "file": "\(job?.path ?? "?")", "in": "\(Int(delay))s", "reason": "\(job?.error ?? "unknown")"])
        }
    }

    // MARK: Enqueuing

    /// Hashes a complete file and queues it, unless it is unchanged since its last upload or
    /// already queued as it is. A file whose job is running is looked at again when the job ends.
    private func enqueue(_ file: ReadyFile, scheduler: JobScheduler) async throws {
        let path = file.path
        if await scheduler.deferIfBusy(path) { return }
        let absolute = folder + "/" + path
        guard let before = FileStamp.of(path: absolute) else { return }
        let (entry, job) = try store.pushRecord(path: path)
        if let entry, entry.size == before.size, entry.mtimeNs == before.mtimeNs { return }
        if let job, job.size == before.size, job.mtimeNs == before.mtimeNs { return }
        let digest: FileDigest
        do {
            digest = try FileDigest.of(path: absolute)
        } catch {
            guard FileStamp.of(path: absolute) != nil else { return }
            let reason = "cannot read the file: \(Pusher.describe(error))"
            try store.recordUnpushable(path: path, size: before.size, mtimeNs: before.mtimeNs, reason: reason)
            metrics.failed.increment()
            logger.warning("failed", metadata: ["file": "\(path)", "reason": "\(reason)"])
            reporter.report(.failed(path: path, reason: reason))
            return
        }
        guard FileStamp.of(path: absolute) == before, digest.size == before.size else {
            control.continuation.yield(.changed(path))
            return
        }
        if let entry, entry.md5 == digest.md5, entry.size == digest.size {
            // Touched, not changed: remember the new time so that the next scan does not hash it again.
            var touched = entry
            touched.mtimeNs = before.mtimeNs
            try store.saveManifest([touched])
            logger.debug("unchanged", metadata: ["file": "\(path)"])
            return
        }
        try store.enqueuePush(LocalFile(path: path, size: before.size, mtimeNs: before.mtimeNs), digest: digest)
        readySince.update { $0[path] = file.since }
        logger.debug("queued", metadata: ["file": "\(path)", "bytes": "\(before.size)"])
        await scheduler.wake()
    }
}
