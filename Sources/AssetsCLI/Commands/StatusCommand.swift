import ArgumentParser
import AssetSync
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a folder's queue: counts by state, failures with reasons, orphan assets."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: FolderOptions

    func run() async throws {
        try await runCommand {
            let settings = try Settings.resolve(global)
            let store: StateStore
            do {
                store = try target.openStore(url: settings.url)
            } catch let error as SyncError where error.kind == .busy {
                // `assets watch` (or a push) owns the state file: read it as it stands.
                store = try StateStore.openForReading(path: target.statePath(url: settings.url))
                if !global.json { printOut("(another assets process is running; showing its last committed state)") }
            }
            let push = try store.pushCounts()
            let pull = try store.pullCounts()
            let failedPushes = try store.failedPushes()
            let failedPulls = try store.failedPulls()
            let orphans = try store.orphans()
            let manifest = try store.manifest().count
            if global.json {
                var object: [String: Any] = [
                    "push": Dictionary(uniqueKeysWithValues: push.map { ($0.key.rawValue, $0.value) }),
                    "pull": Dictionary(uniqueKeysWithValues: pull.map { ($0.key.rawValue, $0.value) }),
                    "synced_files": manifest,
                    "orphans": orphans.map { ["path": $0.path, "asset_id": $0.assetId.map { $0 as Any } ?? NSNull(), "reason": $0.reason] as [String: Any] },
                ]
                object["failures"] = failedPushes.map { ["direction": "push", "path": $0.path, "reason": $0.error ?? ""] }
                    + failedPulls.map { ["direction": "pull", "path": $0.path, "reason": $0.error ?? ""] }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                printOut(String(decoding: data, as: UTF8.self))
                return .success
            }
            printOut("state file: \(store.path)")
            printOut("files in sync: \(manifest)")
            let pushLine = PushState.allCases.compactMap { state in push[state].map { "\(state.rawValue) \($0)" } }
            let pullLine = PullState.allCases.compactMap { state in pull[state].map { "\(state.rawValue) \($0)" } }
            printOut("push jobs: " + (pushLine.isEmpty ? "none" : pushLine.joined(separator: ", ")))
            printOut("pull jobs: " + (pullLine.isEmpty ? "none" : pullLine.joined(separator: ", ")))
            if !failedPushes.isEmpty || !failedPulls.isEmpty {
                printOut("failures (`assets retry` requeues them):")
                for job in failedPushes { printOut("  push \(job.path): \(job.error ?? "unknown")") }
                for job in failedPulls { printOut("  pull \(job.path): \(job.error ?? "unknown")") }
            }
            if !orphans.isEmpty {
                printOut("orphan assets (created, never marked uploaded, never downloadable): \(orphans.count)")
                for orphan in orphans.suffix(20) {
                    printOut("  \(orphan.path) \(orphan.assetId ?? "(id unknown)"): \(orphan.reason)")
                }
            }
            return .success
        }
    }
}
