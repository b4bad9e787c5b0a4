import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The built `assets` binary, run as a user would run it.
public enum CLI {
    /// The binary of the build under test: `ASSETS_BINARY` when set, otherwise the `assets` beside the
    /// running test executable (the same `.build/<triple>/<configuration>` folder). Never another build's.
    public static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["ASSETS_BINARY"], !path.isEmpty { return path }
        let testExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return testExecutable.deletingLastPathComponent().appendingPathComponent("assets").path
    }()

    /// Fails with a message that says how to build it when the binary under test is missing.
    public static func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw MissingBinary(path: binary)
        }
    }

    struct MissingBinary: Error, CustomStringConvertible {
        var path: String
        var description: String { "no assets binary at \(path): build it with `swift build --build-tests` first" }
    }

    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Killed by a signal rather than exiting.
        public var signalled: Bool
    }

    /// Starts the binary; the caller waits or kills. `prefix` runs it through another program
    /// (e.g. `setpriv` to drop root); `input`, when given, is its stdin (otherwise stdin is empty).
    public static func start(_ arguments: [String], environment: [String: String] = [:],
                             prefix: [String] = [], input: Data? = nil) throws -> Running {
        try requireBinary()
        let process = Process()
        if let launcher = prefix.first {
            process.executableURL = URL(fileURLWithPath: launcher)
            process.arguments = Array(prefix.dropFirst()) + [binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["PIXIEBRIX_TOKEN"] = nil
        env["PIXIEBRIX_URL"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
        if let stdin, let input {
            DispatchQueue.global().async {
                try? stdin.fileHandleForWriting.write(contentsOf: input)
                try? stdin.fileHandleForWriting.close()
            }
        }
        return Running(process: process, out: out, err: err)
    }

    public static func run(_ arguments: [String], environment: [String: String] = [:],
                           prefix: [String] = [], input: Data? = nil) async throws -> Outcome {
        try await start(arguments, environment: environment, prefix: prefix, input: input).wait()
    }

    /// Runs any program to its end and returns its exit status (output discarded).
    public static func runProgram(_ command: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    public final class Running: @unchecked Sendable {
        // @unchecked: `process` is only read and signalled; the pipes' output sits behind a Mutex.
        public let process: Process
        private let output = Mutex<(out: Data, err: Data)>((Data(), Data()))
        private let readers = DispatchGroup()

        init(process: Process, out: Pipe, err: Pipe) {
            self.process = process
            for (pipe, isOut) in [(out, true), (err, false)] {
                readers.enter()
                DispatchQueue.global().async { [self] in
                    // Chunk by chunk, so that `outputSoFar` sees a server's banner while it runs.
                    while true {
                        let data = pipe.fileHandleForReading.availableData
                        if data.isEmpty { break }
                        output.withLock { if isOut { $0.out.append(data) } else { $0.err.append(data) } }
                    }
                    readers.leave()
                }
            }
        }

        public var isRunning: Bool { process.isRunning }

        /// Standard output received so far.
        public func outputSoFar() -> String { output.withLock { String(decoding: $0.out, as: UTF8.self) } }

        public func kill(_ signal: Int32 = SIGKILL) {
            Glibc.kill(process.processIdentifier, signal)
        }

        public func wait() async -> Outcome {
            while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
            readers.wait()
            let (out, err) = output.withLock { ($0.out, $0.err) }
            return Outcome(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                           stderr: String(decoding: err, as: UTF8.self),
                           signalled: process.terminationReason == .uncaughtSignal)
        }
    }
}
