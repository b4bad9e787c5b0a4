import Foundation

/// Runs `/usr/bin/curl` (for streamed files, chunked bodies and broken connections); returns exit code and stdout.
/// It waits on its own thread: blocking a cooperative thread while the in-process server needs one would deadlock.
@discardableResult
func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await runProcess("/usr/bin/curl", ["-sS"] + arguments)
}

func runProcess(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.start()
    }
}
