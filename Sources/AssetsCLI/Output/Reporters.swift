import AssetSync
import Foundation
import Transfer

#if canImport(Glibc)
import Glibc
#endif

/// Picks how a sync reports: JSON lines, a live display on a terminal, or only errors.
enum Reporters {
    static func make(_ options: GlobalOptions, verb: String) -> any SyncReporter & Finishing {
        if options.json { return JSONLinesReporter() }
        if !options.quiet && isatty(STDERR_FILENO) == 1 { return ProgressReporter(verb: verb) }
        return ErrorsOnlyReporter()
    }
}

/// A reporter that has something to flush when the run ends.
protocol Finishing: Sendable {
    func finish()
}

extension Finishing {
    /// Runs `body` and flushes the reporter afterwards, also when `body` throws.
    func finishing<R>(_ body: () async throws -> R) async rethrows -> R {
        defer { finish() }
        return try await body()
    }
}

/// Writes a line to stderr at once (stderr is unbuffered, but `print` is not).
///
/// Every line printed goes through ``TerminalText/escape(_:)``: lines carry names and messages from
/// the server, which must not reach the terminal as control sequences (a newline inside becomes `\u000a`,
/// so a server cannot forge lines either). Text printed as JSON stays valid JSON.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((TerminalText.escape(line) + "\n").utf8))
}

func printOut(_ line: String) {
    FileHandle.standardOutput.write(Data((TerminalText.escape(line) + "\n").utf8))
}

/// Writes to stderr without a newline: for the live line's own control sequences around escaped text.
func writeError(raw control: String, _ text: String = "", end: String = "") {
    FileHandle.standardError.write(Data((control + TerminalText.escape(text) + end).utf8))
}

/// In a pipe or with `--quiet`: nothing but failures, on stderr.
struct ErrorsOnlyReporter: SyncReporter, Finishing {
    func report(_ event: SyncEvent) {
        if case .failed(let path, let reason) = event { printError("assets: \(path): \(reason)") }
    }
    func finish() {}
}

/// `--json`: one JSON object per event and line, on stdout.
struct JSONLinesReporter: SyncReporter, Finishing {
    func report(_ event: SyncEvent) {
        var object: [String: Any] = [:]
        switch event {
        case .planned(let files, let bytes, let unchanged):
            object = ["event": "planned", "files": files, "bytes": bytes, "unchanged": unchanged]
        case .started(let path, let bytes):
            object = ["event": "started", "path": path, "bytes": bytes]
        case .stateChanged(let path, let state):
            object = ["event": "state", "path": path, "state": state]
        case .progress:
            return
        case .finished(let path, let bytes):
            object = ["event": "done", "path": path, "bytes": bytes]
        case .failed(let path, let reason):
            object = ["event": "failed", "path": path, "reason": reason]
        case .notice(let message):
            object = ["event": "notice", "message": message]
        case .summary(let summary):
            object = ["event": "summary", "planned": summary.planned, "done": summary.done, "failed": summary.failed,
                      "unchanged": summary.unchanged, "bytes": summary.bytes, "orphans": summary.orphans,
                      "retries": summary.retries,
                      "seconds": (summary.seconds * 1000).rounded() / 1000]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        printOut(String(decoding: data, as: UTF8.self))
    }
    func finish() {}
}

/// On a terminal: one live line on stderr (files, bytes, rate, ETA, current files), failures above it.
final class ProgressReporter: SyncReporter, Finishing, @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`; the render task only reads under it.
    private let lock = NSLock()
    private let verb: String
    private let started = Date()
    private var planned = 0
    private var plannedBytes: Int64 = 0
    private var done = 0
    private var failed = 0
    private var finishedBytes: Int64 = 0
    private var inFlight: [String: Int64] = [:]
    private var summary: SyncSummary?
    private var finished = false
    private var renderer: Task<Void, Never>?

    init(verb: String) {
        self.verb = verb
        renderer = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                self?.render()
            }
        }
    }

    func report(_ event: SyncEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .planned(let files, let bytes, _):
            planned = files
            plannedBytes = bytes
        case .started(let path, _):
            inFlight[path] = 0
        case .progress(let path, let bytes, _):
            if inFlight[path] != nil { inFlight[path] = bytes }
        case .finished(let path, let bytes):
            inFlight[path] = nil
            done += 1
            finishedBytes += bytes
        case .failed(let path, let reason):
            inFlight[path] = nil
            failed += 1
            writeError(raw: "\r\u{1B}[K", "\(path): \(reason)", end: "\n")
        case .notice(let message):
            writeError(raw: "\r\u{1B}[K", message, end: "\n")
        case .summary(let summary):
            self.summary = summary
        case .stateChanged:
            break
        }
    }

    private func render() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        let bytes = finishedBytes + inFlight.values.reduce(0, +)
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(bytes) / elapsed
        var line = "\(verb) \(done + failed)/\(planned) files  \(Self.bytes(bytes))"
        if plannedBytes > 0 { line += "/\(Self.bytes(plannedBytes))" }
        line += "  \(Self.bytes(Int64(rate)))/s"
        if plannedBytes > bytes, rate > 0 {
            line += "  ETA \(Self.duration(Double(plannedBytes - bytes) / rate))"
        }
        if failed > 0 { line += "  \(failed) failed" }
        if let current = inFlight.keys.sorted().first {
            line += "  \(TerminalText.escape(current))" + (inFlight.count > 1 ? " +\(inFlight.count - 1)" : "")
        }
        let width = 120
        if line.count > width { line = String(line.prefix(width - 1)) + "…" }
        writeError(raw: "\r\u{1B}[K", line)
    }

    func finish() {
        renderer?.cancel()
        lock.lock()
        defer { lock.unlock() }
        finished = true
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        guard let summary else { return }
        var line = "\(verb): \(summary.done) done, \(summary.failed) failed, \(summary.unchanged) unchanged, "
            + "\(Self.bytes(summary.bytes)) in \(Self.duration(summary.seconds))"
        if summary.retries > 0 { line += ", \(summary.retries) retries" }
        if summary.orphans > 0 { line += ", \(summary.orphans) orphan asset(s) left (see `assets status`)" }
        writeError(raw: "", line, end: "\n")
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return String(format: "%.1fs", seconds) }
        return String(format: "%d:%02d", total / 60, total % 60)
    }
}
