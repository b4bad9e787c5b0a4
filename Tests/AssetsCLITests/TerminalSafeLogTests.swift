import Foundation
import Logging
import Testing

@testable import AssetsCLI

#if canImport(Glibc)
import Glibc
#endif

/// Log lines carry server names and errors: the CLI's log handler escapes them (issue 10).
@Suite("terminal-safe logs", .serialized)
struct TerminalSafeLogTests {
    @Test("a log message and its metadata reach stderr with ESC, BEL, C1 and U+202E escaped")
    func logLinesEscaped() throws {
        let pipe = Pipe()
        fflush(nil)
        let saved = dup(STDERR_FILENO)
        dup2(pipe.fileHandleForWriting.fileDescriptor, STDERR_FILENO)
        var logger = Logger(label: "test", factory: { TerminalSafeLogHandler.standardError(label: $0) })
        logger.logLevel = .info
        logger.warning("downloading esc-\u{1B}[2J.txt", metadata: ["file": "bidi-\u{202E}txt.exe", "why": "\u{9B}31m\u{07}"])
        fflush(nil)
        dup2(saved, STDERR_FILENO)
        close(saved)
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("downloading esc-\\u001b[2J.txt"))
        #expect(text.contains("bidi-\\u202etxt.exe"))
        #expect(text.contains("\\u009b31m\\u0007"))
        #expect(!text.unicodeScalars.contains { [0x1B, 0x07, 0x9B, 0x202E].contains($0.value) })
    }
}
