import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `assets serve --port 0` with its output in a file, read for the listening address.
public final class ServeProcess: @unchecked Sendable {
    // @unchecked: `process` is only read and signalled.
    public let process = Process()
    public let token = "serve-process-test-token"
    private let logPath: String

    public init(dataDirectory: String, logPath: String) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--data", dataDirectory, "--port", "0", "--token", token]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The `http://127.0.0.1:PORT` the server printed; fails if it exits first.
    public func waitForURL() async throws -> String {
        while process.isRunning {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = log.range(of: #"listening on (http://[0-9.:]+)"#, options: .regularExpression) {
                return String(log[range].dropFirst("listening on ".count))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw ServeExited(log: log)
    }

    struct ServeExited: Error, CustomStringConvertible {
        var log: String
        var description: String { "assets serve exited before it listened: \(log)" }
    }

    /// The most memory the process has had resident since it started (`VmHWM`).
    public func peakResidentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kibibytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw ServeExited(log: "no VmHWM line in /proc/\(process.processIdentifier)/status") }
        return kibibytes * 1024
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
