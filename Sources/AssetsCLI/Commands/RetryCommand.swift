import ArgumentParser
import AssetSync
import Foundation

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Requeue a folder's failed jobs where they failed; the next push or pull runs them."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: FolderOptions

    func run() async throws {
        try await runCommand {
            let settings = try Settings.resolve(global)
            let path = target.statePath(url: settings.url)
            let store: StateStore
            do {
                store = try target.openStore(url: settings.url)
            } catch let error as SyncError where error.kind == .busy {
                return try await handOver(path: path, settings: settings)
            }
            let pushes = try store.retryFailedPushes()
            let pulls = try store.retryFailedPulls()
            if !global.quiet {
                printOut("requeued \(pushes) push job(s) and \(pulls) pull job(s); run `assets push` or `assets pull` again")
            }
            return .success
        }
    }
}

extension RetryCommand {
    /// Another process owns the state file: leave the request for it (`assets watch` takes it within
    /// a second), or do it ourselves once that process has ended (a push or pull takes none).
    private func handOver(path: String, settings: Settings) async throws -> ExitStatus {
        let shared = try StateStore.openForReading(path: path, forRequests: true)
        try shared.requestRetry()
        if !global.quiet {
            printError("assets: another assets process owns \(path); handed the retry to it, waiting for it to take it "
                + "(assets watch does within a second; a push or pull when it ends)")
        }
        while true {
            let outcome = try shared.retryRequestOutcome()
            if !outcome.pending {
                let counts = outcome.requeued ?? (0, 0)
                if !global.quiet {
                    printOut("the running assets process requeued \(counts.push) push job(s) and \(counts.pull) pull job(s)")
                }
                return .success
            }
            if let store = try? target.openStore(url: settings.url) {
                let counts = try store.takeRetryRequest() ?? (0, 0)
                if !global.quiet {
                    printOut("requeued \(counts.push) push job(s) and \(counts.pull) pull job(s); "
                        + "run `assets push` or `assets pull` again")
                }
                return .success
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
