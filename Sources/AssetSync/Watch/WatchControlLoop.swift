import Foundation
import Logging

/// The watch service's control loop: it alone touches the watches, the files settling and the ignore rules,
/// turning inotify batches, ticks and rescans into settled files on their way to the queue.
struct WatchControlLoop {
    let service: WatchService
    let planner: PushPlanner
    let scheduler: JobScheduler
    let ready: AsyncStream<WatchService.ReadyFile>.Continuation
    var watcher: FolderWatcher
    var tracker: SettleTracker
    /// The options' rules plus the `.assetsignore` files found by the last scans.
    var rules: IgnoreRules
    private var lastGauges = 0.0
    /// The last look at the event queue handled (see ``SettleTracker``'s barriers).
    private var handledLook: UInt64 = 0
    /// A close was recorded in this batch: a further look is needed to complete it.
    private var needLook = false
    /// Symbolic links already reported as skipped (each is reported once).
    private var reportedLinks: Set<String> = []

    init(service: WatchService, planner: PushPlanner, scheduler: JobScheduler,
         ready: AsyncStream<WatchService.ReadyFile>.Continuation) throws {
        self.service = service
        self.planner = planner
        self.scheduler = scheduler
        self.ready = ready
        watcher = try FolderWatcher(root: service.folder)
        tracker = SettleTracker(settle: service.options.settle)
        rules = planner.rules
    }

    private var logger: Logger { service.logger }

    /// Handles inputs until a shutdown (returns) or a failure (throws).
    mutating func run() async throws {
        service.statusBox.update { $0.state = "watching" }
        for await input in service.control.stream {
            switch input {
            case .events(let batch):
                for change in watcher.translate(batch.events) { try await handle(change) }
                handledLook = batch.look
                releaseDue()
                if needLook {
                    needLook = false
                    watcher.inotify.requestLook()
                }
            case .changed(let path):
                record(.written, path)
            case .tick:
                await tick()
            case .rescan:
                try await fullScan(reason: "periodic")
            case .failed(let error):
                throw error
            case .shutdown:
                return
            }
        }
    }

    private mutating func handle(_ change: FolderChange) async throws {
        switch change {
        case .file(let path, let signal):
            guard signal == .removed || !rules.ignoresFile(path) else { return }
            record(signal, path)
        case .folderAppeared(let path):
            guard !rules.ignoresFolder(path) else { return }
            try scan(under: path)
        case .folderGone(let path):
            watcher.forget(under: path)
            tracker.forget(under: path)
        case .overflow:
            logger.warning("inotify queue overflowed (fs.inotify.max_queued_events); rescanning")
            try await fullScan(reason: "overflow")
        case .rootGone:
            throw SyncError(kind: .localFolder, message: "the watched folder \(service.folder) was deleted or moved")
        }
    }

    private mutating func record(_ signal: SettleTracker.Signal, _ path: String) {
        let stamp = signal == .removed ? nil : FileStamp.of(path: service.folder + "/" + path)
        if signal != .removed, stamp == nil {
            var info = stat()
            if lstat(service.folder + "/" + path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
                noteSkipped([ScanProblem(path: path, reason: "a symbolic link; not followed")])
            }
        }
        // Drawn after the stamp: a look numbered above holds every event before the stat.
        let barrier = watcher.inotify.looks + 1
        let decision = tracker.record(signal, path: path, stamp: stamp, now: Date().timeIntervalSince1970,
                                      barrier: barrier)
        if signal == .closedAfterWrite || signal == .movedIn { needLook = true }
        if decision == .ready { ready.yield(WatchService.ReadyFile(path: path, since: DispatchTime.now().uptimeNanoseconds)) }
    }

    /// Hands over the files that are complete now.
    private mutating func releaseDue() {
        let root = service.folder
        for path in tracker.due(now: Date().timeIntervalSince1970, handled: handledLook,
                                stamp: { FileStamp.of(path: root + "/" + $0) }) {
            ready.yield(WatchService.ReadyFile(path: path, since: DispatchTime.now().uptimeNanoseconds))
        }
    }

    /// `assets retry` run while this watch owns the state file hands its request over here.
    private func takeRetryRequest() async {
        do {
            guard let requeued = try service.store.takeRetryRequest() else { return }
            service.logger.info("requeued failed jobs for assets retry", metadata: [
                "push": "\(requeued.push)", "pull": "\(requeued.pull)"])
            await scheduler.requeued()
        } catch {
            service.logger.warning("cannot take a retry request", metadata: ["reason": "\(error)"])
        }
    }

    private mutating func tick() async {
        let now = Date().timeIntervalSince1970
        releaseDue()
        await scheduler.tick(now: now)
        guard now - lastGauges >= 1 else { return }
        lastGauges = now
        await takeRetryRequest()
        let inFlight = await scheduler.inFlightCount
        let queued = max(0, ((try? service.store.activePushCount()) ?? 0) - inFlight)
        let (settling, folders) = (tracker.count, watcher.count)
        service.metrics.queued.record(queued)
        service.metrics.inFlight.record(inFlight)
        service.metrics.settling.record(settling)
        service.metrics.watchedFolders.record(folders)
        service.statusBox.update {
            $0.queued = queued
            $0.inFlight = inFlight
            $0.settling = settling
            $0.watchedFolders = folders
        }
    }

    /// Watches and scans a folder that appeared: files already in it settle like new ones.
    private mutating func scan(under folder: String) throws {
        var watcher = self.watcher
        defer { self.watcher = watcher }
        let result = try LocalScanner(root: service.folder, rules: rules).scan(under: folder) { try watcher.watch($0) }
        rules = result.rules
        noteSkipped(result.skippedLinks)
        settle(result.files)
    }

    /// Reports each link not followed once per run of the service.
    private mutating func noteSkipped(_ links: [ScanProblem]) {
        for link in links where reportedLinks.insert(link.path).inserted {
            logger.info("skipped", metadata: ["path": "\(link.path)", "reason": "\(link.reason)"])
            service.reporter.report(.notice(Pusher.skippedLinkNotice(link)))
        }
    }

    /// Files found by a scan: complete at once if unchanged for the settle window already.
    private mutating func settle(_ files: [LocalFile]) {
        let now = Date().timeIntervalSince1970
        for file in files {
            let stamp = FileStamp(size: file.size, mtimeNs: file.mtimeNs)
            if tracker.record(.seen, path: file.path, stamp: stamp, now: now) == .ready {
                ready.yield(WatchService.ReadyFile(path: file.path, since: DispatchTime.now().uptimeNanoseconds))
            }
        }
    }

    /// Watches every folder (again) and plans against the manifest, as a push does: what is new
    /// or changed settles, then is queued; interrupted jobs are already in the queue.
    mutating func fullScan(reason: String) async throws {
        var watcher = self.watcher
        let result: LocalScanner.Result
        do {
            result = try LocalScanner(root: service.folder, rules: planner.rules).scan(under: "") {
                try watcher.watch($0)
            }
        } catch {
            self.watcher = watcher
            throw error
        }
        self.watcher = watcher
        rules = result.rules
        noteSkipped(result.skippedLinks)
        try service.store.pruneDonePushes()
        let plan = try await planner.plan(scan: result)
        for problem in plan.problems {
            logger.warning("cannot scan", metadata: ["path": "\(problem.path)", "reason": "\(problem.reason)"])
        }
        settle(plan.uploads)
        service.metrics.rescans.increment()
        service.statusBox.update { $0.lastRescan = Date() }
        logger.info("scanned", metadata: [
            "reason": "\(reason)", "files": "\(result.files.count)", "new or changed": "\(plan.uploads.count)",
            "resumed": "\(plan.resumed.count)", "present remotely": "\(plan.presentRemotely.count)"])
    }
}
