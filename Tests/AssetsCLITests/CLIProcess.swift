import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The built `assets` binary, run as a user would run it.
enum CLI {
    static var binary: String {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for candidate in [".build/debug/assets", ".build/release/assets"] {
            let path = packageRoot.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot.appendingPathComponent(".build/debug/assets").path
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Killed by a signal rather than exiting.
        var signalled: Bool
    }

    /// Starts the binary; the caller waits or kills.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["PIXIEBRIX_TOKEN"] = nil
        env["PIXIEBRIX_URL"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        try await start(arguments, environment: environment).wait()
    }

    final class Running: @unchecked Sendable {
        // @unchecked: the pipes' readers run on their own threads and only append under `lock`.
        let process: Process
        private let lock = NSLock()
        private var outData = Data()
        private var errData = Data()
        private let readers = DispatchGroup()

        init(process: Process, out: Pipe, err: Pipe) {
            self.process = process
            for (pipe, isOut) in [(out, true), (err, false)] {
                readers.enter()
                DispatchQueue.global().async { [self] in
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    lock.withLock {
                        if isOut { outData = data } else { errData = data }
                    }
                    readers.leave()
                }
            }
        }

        func kill() {
            Glibc.kill(process.processIdentifier, SIGKILL)
        }

        func wait() async -> Outcome {
            while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
            readers.wait()
            let (out, err) = lock.withLock { (outData, errData) }
            return Outcome(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                           stderr: String(decoding: err, as: UTF8.self),
                           signalled: process.terminationReason == .uncaughtSignal)
        }
    }
}

