import Foundation
import PixieBrix

extension FollowService {
    /// One poll: the listing's changes since the last one, planned as a pull plans, queued.
    func poll(_ changes: inout ListingChanges) async throws {
        var next = changes
        var candidates: [String: Asset] = [:]
        var refused: [String: String] = [:]
        var pages = 0
        let pull = options.pull
        let rules = IgnoreRules(include: pull.include, exclude: pull.exclude)
        let globs = !(pull.include.isEmpty && pull.exclude.isEmpty)
        let ordered = try await client.assetsNewestFirst(database: database, pageSize: options.pageSize) { page in
            pages += 1
            let fresh = next.unseen(in: page)
            for asset in fresh where asset.isUploaded {
                switch RemotePath.localPath(for: asset.filename) {
                case .failure(let error):
                    refused[asset.filename] = error.description
                case .success(let path):
                    if globs && rules.ignoresFile(path) { continue }
                    guard pull.filter.keeps(path: path), next.takeIfNewest(asset, path: path) else { continue }
                    candidates[path] = asset
                }
            }
            return !fresh.isEmpty
        }
        metrics.polls.increment()
        metrics.pollPages.increment(by: pages)
        if !candidates.isEmpty || !refused.isEmpty {
            let puller = Puller(folder: folder, database: database, client: client, store: store, options: pull,
                                reporter: reporter, logger: logger)
            let problems = refused.map { ScanProblem(path: $0.key, reason: $0.value) }.sorted { $0.path < $1.path }
            let plan = try await puller.decide(newest: candidates, refused: problems)
            for refusal in plan.refused {
                try store.recordUnpullable(path: refusal.path, assetId: "", reason: refusal.reason)
                reporter.report(.failed(path: refusal.path, reason: refusal.reason))
            }
            let now = DispatchTime.now().uptimeNanoseconds
            for download in plan.downloads {
                try store.enqueuePull(path: download.path, assetId: download.asset.id)
                foundAt.update { $0[download.path] = now }
            }
            if !plan.downloads.isEmpty {
                logger.debug("queued", metadata: ["files": "\(plan.downloads.count)"])
            }
        }
        changes = next
        let queued = try store.activePullCount()
        metrics.queued.record(queued)
        statusBox.update {
            if $0.state == "starting" { $0.state = "following" }
            $0.polls += 1
            $0.lastPollPages = pages
            $0.orderedListing = ordered
            $0.queued = queued
            $0.lastPoll = Date()
        }
        logger.debug("polled", metadata: ["pages": "\(pages)", "new": "\(candidates.count)", "ordered": "\(ordered)"])
    }
}
