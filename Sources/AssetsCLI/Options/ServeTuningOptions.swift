import ArgumentParser
import AssetServer

/// `assets serve`'s hidden knobs: lease and pass timings, and limits that tests shorten to make a case happen
/// in seconds (a job still running, a replica taking one over, archiving passes racing).
struct ServeTuningOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Seconds an export job stays with its replica without renewal before another takes it over.",
        visibility: .hidden))
    var exportLease: Double = 30

    @Option(name: .long, help: ArgumentHelp(
        "Milliseconds to pause after each batch an export writes (tests: a job still running).", visibility: .hidden))
    var exportBatchPauseMs = 0

    @Option(name: .long, help: ArgumentHelp(
        "Seconds between nightly archiving passes (one per interval across replicas).", visibility: .hidden))
    var archiveInterval: Double = 3600

    @Option(name: .long, help: ArgumentHelp(
        "Milliseconds a replica holds its claim of an archiving pass open (tests: two replicas claiming at once).",
        visibility: .hidden))
    var archiveClaimPauseMs = 0

    @Option(name: .long, help: ArgumentHelp(
        "Live records a database keeps before archiving moves its oldest dates out (tests: a lower limit).",
        visibility: .hidden))
    var maxLiveRecords = 500_000

    func validate() throws {
        guard exportLease.isFinite, (0.3...86_400).contains(exportLease) else {
            throw ValidationError("--export-lease must be between 0.3 and 86400 seconds.")
        }
        guard (0...600_000).contains(exportBatchPauseMs) else {
            throw ValidationError("--export-batch-pause-ms must be between 0 and 600000.")
        }
        guard archiveInterval.isFinite, (0.5...86_400).contains(archiveInterval) else {
            throw ValidationError("--archive-interval must be between 0.5 and 86400 seconds.")
        }
        guard (0...60_000).contains(archiveClaimPauseMs) else {
            throw ValidationError("--archive-claim-pause-ms must be between 0 and 60000.")
        }
        guard (0...500_000).contains(maxLiveRecords) else {
            throw ValidationError("--max-live-records must be between 0 and 500000.")
        }
    }

    func apply(to configuration: inout AssetServerConfiguration) {
        configuration.exportLease = .milliseconds(Int64((exportLease * 1000).rounded()))
        configuration.exportBatchPause = .milliseconds(exportBatchPauseMs)
        configuration.archiveInterval = .milliseconds(Int64((archiveInterval * 1000).rounded()))
        configuration.archiveClaimPause = .milliseconds(archiveClaimPauseMs)
        configuration.limits.maxLiveRecords = maxLiveRecords
    }
}
