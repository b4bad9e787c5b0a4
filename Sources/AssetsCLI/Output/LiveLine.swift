import Foundation
import Transfer

#if canImport(Glibc)
import Glibc
#endif

/// One status line redrawn in place on stderr, only when stderr is a terminal and output is not `--quiet` or
/// `--json`; at most five redraws a second.
final class LiveLine: @unchecked Sendable {
    // @unchecked: `last` and `shown` are guarded by `lock`.
    private let lock = NSLock()
    private let enabled: Bool
    private var last = ContinuousClock.now - .seconds(1)
    private var shown = false

    init(_ options: GlobalOptions) {
        enabled = !options.quiet && !options.json && isatty(STDERR_FILENO) == 1
    }

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        lock.withLock {
            let now = ContinuousClock.now
            guard force || now - last >= .milliseconds(200) else { return }
            last = now
            shown = true
            var line = TerminalText.escape(text())
            if line.count > 119 { line = String(line.prefix(118)) + "…" }
            writeError(raw: "\r\u{1B}[K", line)
        }
    }

    /// Clears the line.
    func finish() {
        lock.withLock {
            if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            shown = false
        }
    }

    static func rate(_ count: Int, since start: ContinuousClock.Instant) -> String {
        let elapsed = start.duration(to: .now)
        let seconds = max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 0.001)
        return "\(Int(Double(count) / seconds))/s"
    }
}
