import CoreMetrics
import Foundation

/// The watch service's metrics, through swift-metrics: whichever backend the factory is (the CLI
/// hands it swift-prometheus's), or nothing with the default no-op factory.
struct WatchMetrics: Sendable {
    /// Jobs waiting in the queue (not in flight).
    let queued: Gauge
    let inFlight: Gauge
    /// Files seen but not complete yet.
    let settling: Gauge
    let watchedFolders: Gauge
    let done: Counter
    /// Files that failed for good (a transient failure is retried, and counted in `retries`).
    let failed: Counter
    let retries: Counter
    /// Bytes of files uploaded and verified.
    let bytes: Counter
    let rescans: Counter
    /// Each lifecycle step's request(s), by step.
    let steps: [PushStep: CoreMetrics.Timer]
    /// From the moment a file was complete to its verified upload.
    let fileLatency: CoreMetrics.Timer

    init(factory: any MetricsFactory) {
        queued = Gauge(label: "assets_watch_files_queued", factory: factory)
        inFlight = Gauge(label: "assets_watch_files_in_flight", factory: factory)
        settling = Gauge(label: "assets_watch_files_settling", factory: factory)
        watchedFolders = Gauge(label: "assets_watch_folders_watched", factory: factory)
        done = Counter(label: "assets_watch_files_done_total", factory: factory)
        failed = Counter(label: "assets_watch_files_failed_total", factory: factory)
        retries = Counter(label: "assets_watch_retries_total", factory: factory)
        bytes = Counter(label: "assets_watch_bytes_uploaded_total", factory: factory)
        rescans = Counter(label: "assets_watch_rescans_total", factory: factory)
        var steps: [PushStep: CoreMetrics.Timer] = [:]
        for step in PushStep.allCases {
            steps[step] = CoreMetrics.Timer(label: "assets_watch_request_duration_seconds",
                                            dimensions: [("step", step.rawValue)], factory: factory)
        }
        self.steps = steps
        fileLatency = CoreMetrics.Timer(label: "assets_watch_file_latency_seconds", factory: factory)
    }
}

/// Passes events on, and times each lifecycle step from its "-ing" state to its finished one.
final class StepTimingReporter: SyncReporter, @unchecked Sendable {
    // @unchecked: `started` is only touched under `lock`.
    private let lock = NSLock()
    private var started: [String: (step: PushStep, at: UInt64)] = [:]
    private let forward: any SyncReporter
    private let metrics: WatchMetrics

    init(forward: any SyncReporter, metrics: WatchMetrics) {
        self.forward = forward
        self.metrics = metrics
    }

    func report(_ event: SyncEvent) {
        forward.report(event)
        guard case .stateChanged(let path, let name) = event, let state = PushState(rawValue: name) else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let elapsed: (PushStep, UInt64)? = lock.withLock {
            if let step = PushStep.allCases.first(where: { $0.runningState == state }) {
                started[path] = (step, now)
                return nil
            }
            guard let running = started[path], running.step.finishedState == state else { return nil }
            started[path] = nil
            return (running.step, now - running.at)
        }
        if let (step, nanoseconds) = elapsed { metrics.steps[step]?.recordNanoseconds(Int64(nanoseconds)) }
    }
}
