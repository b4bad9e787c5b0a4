import CoreMetrics
import Foundation

/// The continuous pull's metrics, through swift-metrics (the CLI hands it swift-prometheus's factory).
struct FollowMetrics: Sendable {
    /// Jobs in the queue (waiting or running).
    let queued: Gauge
    let done: Counter
    /// Files that failed for good (transient failures are retried within the job's budget).
    let failed: Counter
    /// Bytes of files downloaded and verified.
    let bytes: Counter
    let polls: Counter
    let pollPages: Counter
    /// From the poll that found an asset to its verified file in place.
    let fileLatency: CoreMetrics.Timer

    init(factory: any MetricsFactory) {
        queued = Gauge(label: "assets_follow_files_queued", factory: factory)
        done = Counter(label: "assets_follow_files_done_total", factory: factory)
        failed = Counter(label: "assets_follow_files_failed_total", factory: factory)
        bytes = Counter(label: "assets_follow_bytes_downloaded_total", factory: factory)
        polls = Counter(label: "assets_follow_polls_total", factory: factory)
        pollPages = Counter(label: "assets_follow_poll_pages_total", factory: factory)
        fileLatency = CoreMetrics.Timer(label: "assets_follow_file_latency_seconds", factory: factory)
    }
}

/// Passes events on, and turns each finished or failed file into metrics, status counts and a log line.
final class FollowReporter: SyncReporter, Sendable {
    private let forward: any SyncReporter
    private let onFinished: @Sendable (String, Int64) -> Void
    private let onFailed: @Sendable (String, String) -> Void

    init(forward: any SyncReporter, onFinished: @escaping @Sendable (String, Int64) -> Void,
         onFailed: @escaping @Sendable (String, String) -> Void) {
        self.forward = forward
        self.onFinished = onFinished
        self.onFailed = onFailed
    }

    func report(_ event: SyncEvent) {
        forward.report(event)
        switch event {
        case .finished(let path, let bytes): onFinished(path, bytes)
        case .failed(let path, let reason): onFailed(path, reason)
        default: break
        }
    }
}
