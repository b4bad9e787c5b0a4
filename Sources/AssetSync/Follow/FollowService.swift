import CoreMetrics
import Foundation
import Logging
import PixieBrix

/// A continuous pull: polls the listing every `interval`, newest `updated_at` first, and downloads each new
/// uploaded asset into the folder with the pull lifecycle and the same durable queue as `assets pull`,
/// until ``shutdown()``.
///
/// The first poll reads the whole listing (a full pull's plan: unchanged files stay, local conflicts are
/// refused); later polls stop at the first page whose assets were all seen. Killed at any moment and
/// started again, the queue's jobs resume from their `.part`'s last byte and the first poll finds what was
/// uploaded meanwhile. If the server ignores the listing's order, each poll reads every page.
///
/// ```swift
/// let service = FollowService(folder: out, database: id, client: client, store: store)
/// let running = Task { try await service.run() }
/// // later, on SIGTERM:
/// service.shutdown()
/// try await running.value
/// ```
public final class FollowService: Sendable {
    public let folder: String
    public let database: String
    public let client: PixieBrixClient
    public let store: StateStore
    public let options: FollowOptions
    let logger: Logger
    let metrics: FollowMetrics
    let reporter: any SyncReporter
    private let control = AsyncStream<Input>.makeStream()
    /// Runs the queue once more; several wake-ups while it runs make one more run.
    let wakeups = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let statusBox = Locked(FollowStatus())
    /// The feeder of the queue run in progress, stopped on shutdown so no new file starts.
    private let currentFeeder = Locked<JobFeeder<PullJob>?>(nil)
    private let stopping = Locked(false)
    /// When the poll that found each queued path ran, for the latency metric.
    let foundAt = Locked([String: UInt64]())

    enum Input: Sendable {
        case shutdown
        case failed(any Error)
    }

    /// - Parameters:
    ///   - folder: the absolute path of the folder to fill.
    ///   - reporter: receives the lifecycle's events (the CLI's `--json` lines).
    ///   - logger: one line per file at info level (downloaded, failed), polls at debug.
    ///   - metricsFactory: where metrics go (swift-metrics' global factory by default).
    public init(folder: String, database: String, client: PixieBrixClient, store: StateStore,
                options: FollowOptions = FollowOptions(), reporter: any SyncReporter = SilentReporter(),
                logger: Logger = Logger(label: "assets.follow", factory: { _ in SwiftLogNoOpLogHandler() }),
                metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.folder = folder
        self.database = database
        self.client = client
        self.store = store
        self.options = options
        self.logger = logger
        let metrics = FollowMetrics(factory: metricsFactory)
        self.metrics = metrics
        let (statusBox, foundAt) = (self.statusBox, self.foundAt)
        self.reporter = FollowReporter(
            forward: reporter,
            onFinished: { path, bytes in
                metrics.done.increment()
                metrics.bytes.increment(by: Int(clamping: bytes))
                if let found = foundAt.update({ $0.removeValue(forKey: path) }) {
                    metrics.fileLatency.recordNanoseconds(Int64(clamping: DispatchTime.now().uptimeNanoseconds &- found))
                }
                statusBox.update { $0.done += 1 }
                logger.info("downloaded", metadata: ["file": "\(path)", "bytes": "\(bytes)"])
            },
            onFailed: { path, reason in
                metrics.failed.increment()
                foundAt.update { _ = $0.removeValue(forKey: path) }
                statusBox.update {
                    $0.failed += 1
                    $0.lastError = "\(path): \(reason)"
                }
                logger.warning("failed", metadata: ["file": "\(path)", "reason": "\(reason)"])
            })
    }

    /// Stops taking new work: files in flight get `grace` seconds to finish, the rest stays queued for the
    /// next start, and ``run()`` returns.
    public func shutdown() {
        control.continuation.yield(.shutdown)
    }

    /// The service's state now, for a health check.
    public func status() -> FollowStatus {
        statusBox.value
    }

    /// Polls and downloads until ``shutdown()``; call once.
    ///
    /// - Throws: ``SyncError`` when the state file fails, or the server refuses the token or the database.
    public func run() async throws {
        try store.pruneDonePulls()
        let control = self.control.continuation
        let runner = Task { [self] in
            do { try await runQueue() } catch { control.yield(.failed(error)) }
        }
        let poller = Task { [self] in
            do { try await pollUntilCancelled() } catch { control.yield(.failed(error)) }
        }
        var failure: (any Error)?
        for await input in self.control.stream {
            if case .failed(let error) = input { failure = error }
            break
        }

        // Stop taking new work; let what is in flight finish within the grace period.
        statusBox.update { $0.state = "draining" }
        poller.cancel()
        await poller.value
        stopping.update { $0 = true }
        await currentFeeder.value?.stop()
        wakeups.continuation.finish()
        let grace = options.grace
        let deadline = Task {
            try await Task.sleep(for: .seconds(grace))
            runner.cancel()
        }
        await runner.value
        deadline.cancel()
        let left = (try? store.activePullCount()) ?? 0
        logger.info("stopped", metadata: ["queued": "\(left)"])
        if let failure { throw failure }
    }

    /// Polls now, then every `interval`, until cancelled; a transient failure waits for the next poll.
    private func pollUntilCancelled() async throws {
        var changes = ListingChanges()
        while !Task.isCancelled {
            do {
                try await poll(&changes)
            } catch let error as PixieBrixError where Self.isTransient(error.kind) {
                statusBox.update { $0.lastError = error.description }
                logger.warning("poll failed; trying again at the next one", metadata: ["reason": "\(error.description)"])
            } catch let error as SyncError {
                if case .api(let kind) = error.kind, Self.isTransient(kind) {
                    statusBox.update { $0.lastError = error.message }
                    logger.warning("poll failed; trying again at the next one", metadata: ["reason": "\(error.message)"])
                } else {
                    throw error
                }
            }
            if (try store.activePullCount()) > 0 { wakeups.continuation.yield() }
            try? await Task.sleep(for: .seconds(options.interval))
        }
    }

    /// Runs the queue each time a poll wakes it, until the wake-ups end; a transient failure leaves the jobs
    /// queued for the next wake-up.
    private func runQueue() async throws {
        let store = self.store
        for await _ in wakeups.stream {
            if stopping.value { return }
            let feeder = JobFeeder<PullJob>(load: { try store.activePullJobs(after: $0, limit: $1) }, id: { $0.id ?? 0 })
            currentFeeder.update { $0 = feeder }
            if stopping.value { await feeder.stop() }
            var runner = PullRunner(folder: folder, database: database, client: client, store: store,
                                    transfers: options.pull.transfers, budget: options.pull.retryBudget,
                                    reporter: reporter, logger: logger, verifyMode: options.pull.verify)
            runner.feeder = feeder
            do {
                _ = try await runner.run()
            } catch let error as SyncError {
                guard case .api(let kind) = error.kind, Self.isTransient(kind) else { throw error }
                statusBox.update { $0.lastError = error.message }
                logger.warning("downloads paused until the next poll", metadata: ["reason": "\(error.message)"])
            } catch is CancellationError {
                return
            }
            currentFeeder.update { $0 = nil }
            let queued = try store.activePullCount()
            metrics.queued.record(queued)
            statusBox.update { $0.queued = queued }
        }
    }

    /// Failures that the next poll may not meet: the server unreachable, throttled or failing.
    static func isTransient(_ kind: PixieBrixError.Kind) -> Bool {
        switch kind {
        case .unreachable, .throttled, .server, .malformedResponse, .unexpectedStatus, .cancelled: return true
        default: return false
        }
    }
}
