// Drives the durable queue for scripts/bench (suite `queue`), the network replaced by steps that
// succeed at once. Prints one `name value` line per figure; the script times the process.
//
//   queue-bench enqueue TREE STATE     queue every file of TREE into STATE (a fresh state file)
//   queue-bench pick STATE             the median time to pick the next job, in nanoseconds
//   queue-bench drain STATE WORKERS    run every job to done
import AssetSync
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("queue-bench: \(message)\n".utf8))
    exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("usage: queue-bench enqueue TREE STATE | pick STATE | drain STATE WORKERS") }
let clock = ContinuousClock()
do {
    switch (command, arguments.count) {
    case ("enqueue", 3):
        let store = try StateStore.open(path: arguments[2])
        var queued = 0
        let elapsed = try clock.measure { queued = try QueueBenchmark.enqueue(folder: arguments[1], store: store) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("queued \(queued)")
        print("enqueue_files_per_second \(Double(queued) / seconds)")
        let bytes = [arguments[2], arguments[2] + "-wal"].compactMap {
            (try? FileManager.default.attributesOfItem(atPath: $0)[.size]) as? Int
        }.reduce(0, +)
        print("state_bytes_per_job \(Double(bytes) / Double(max(1, queued)))")
    case ("pick", 2):
        let store = try StateStore.open(path: arguments[1])
        let time = try QueueBenchmark.timeToPickNext(store: store)
        print("pick_ns \(Double(time.components.attoseconds) / 1e9 + Double(time.components.seconds) * 1e9)")
    case ("drain", 3):
        let store = try StateStore.open(path: arguments[1])
        guard let workers = Int(arguments[2]), workers > 0 else { fail("WORKERS must be a positive number") }
        var done = 0
        let elapsed = try await clock.measure { done = try await QueueBenchmark.drain(store: store, workers: workers) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("drained \(done)")
        print("drain_jobs_per_second \(Double(done) / seconds)")
    default:
        fail("usage: queue-bench enqueue TREE STATE | pick STATE | drain STATE WORKERS")
    }
} catch {
    fail("\(error)")
}
