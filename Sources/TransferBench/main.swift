// Drives the Transfer engine for scripts/bench (suite `transfer`). The script times the process.
//
//   transfer-bench download URL FILE        GET URL into FILE
//   transfer-bench upload URL FILE          PUT FILE to URL
//   transfer-bench gets URL COUNT PARALLEL  COUNT GETs of URL, PARALLEL at a time, bodies in memory
import Foundation
import Transfer

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("transfer-bench: \(message)\n".utf8))
    exit(1)
}

func check(_ response: HTTPResponse) {
    if !response.isSuccess { fail("HTTP \(response.status) from \(response.url)") }
}

let arguments = CommandLine.arguments.dropFirst()
guard let command = arguments.first, arguments.count >= 3, let url = URL(string: arguments[arguments.startIndex + 1]) else {
    fail("usage: transfer-bench download|upload URL FILE | gets URL COUNT PARALLEL")
}
let operand = arguments[arguments.startIndex + 2]

var configuration = TransferEngine.Configuration()
configuration.maxConnectionsPerHost = 16
do {
    try await withTransferEngine(configuration: configuration) { engine in
        switch command {
        case "download":
            check(try await engine.perform(HTTPRequest(url: url, destination: .file(path: operand, resume: false))))
        case "upload":
            check(try await engine.perform(HTTPRequest(method: .put, url: url, body: .file(path: operand))))
        case "gets":
            guard let count = Int(operand), arguments.count == 4, let parallel = Int(arguments.last!) else {
                fail("gets needs COUNT and PARALLEL")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                let next = Counter()
                for _ in 0..<parallel {
                    group.addTask {
                        while next.take() < count { check(try await engine.perform(HTTPRequest(url: url))) }
                    }
                }
                try await group.waitForAll()
            }
        default:
            fail("unknown command \(command)")
        }
    }
} catch {
    fail("\(error)")
}

/// Hands out request numbers to the workers.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take() -> Int {
        lock.withLock {
            defer { value += 1 }
            return value
        }
    }
}
