import AssetServer
import Foundation

/// An S3 endpoint for the tests: moto's server (PyPI `moto[s3]`, flask) in a virtual environment under `.build/venv`,
/// started once per test process on a free loopback port, ended with that process.
///
/// Environment variables (the only two the S3 tests read):
/// - `ASSETS_TEST_BLOBS=s3`: `withFixture` and the AssetServerTests harness run their servers with
///   `--blobs s3://assets-test/<fresh prefix>` on moto instead of the file blob store, so that `scripts/test` can run
///   the AssetServer suite a second time on S3 (orthogonal to the metadata backend's variable).
/// - `ASSETS_SKIP_S3=1`: when moto or botocore cannot be installed, the tests that need them are skipped (loudly)
///   instead of failing.
///
/// `scripts/test` installs the venv when missing; so does the first test that needs it (`python3 -m venv`, then
/// `pip install -r scripts/lib/s3/requirements.txt`). `ASSETS_TEST_VENV` names another venv folder.
public enum TestS3 {
    public static let bucket = "assets-test"
    public static let accessKey = "testing"
    public static let secretKey = "testing"

    /// Whether S3 tests run: false only when `ASSETS_SKIP_S3=1`.
    public static let enabled: Bool = {
        guard ProcessInfo.processInfo.environment["ASSETS_SKIP_S3"] == "1" else { return true }
        FileHandle.standardError.write(Data("*** ASSETS_SKIP_S3=1: every test that needs S3 (moto) is SKIPPED ***\n".utf8))
        return false
    }()

    /// Whether servers of `withFixture` and the harness keep their blobs in S3 (`ASSETS_TEST_BLOBS=s3`).
    public static let isDefaultBlobStore = ProcessInfo.processInfo.environment["ASSETS_TEST_BLOBS"] == "s3"

    /// The repository root (this file is `Tests/TestSupport/TestS3.swift`).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let venv = ProcessInfo.processInfo.environment["ASSETS_TEST_VENV"] ?? root + "/.build/venv"
    public static var python: String { venv + "/bin/python" }
    public static func script(_ name: String) -> String { root + "/scripts/lib/s3/" + name }

    /// Makes sure the venv holds moto and botocore (once per process).
    public static func ensureInstalled() async throws { try await installed.value }

    private static let installed = Task<Void, any Error>.detached { try ensureVenv() }

    /// `http://127.0.0.1:PORT` of the moto endpoint, with the test bucket created.
    public static func endpoint() async throws -> String { try await started.value }

    private static let started = Task<String, any Error>.detached {
        try await installed.value
        let endpoint = try startMoto()
        _ = try run([script("endpoint.py"), "create-bucket", endpoint, bucket])
        return endpoint
    }

    /// The test bucket under `prefix` (a fresh one by default) on the moto endpoint.
    public static func location(prefix: String = "run-" + UUID().uuidString.lowercased().prefix(8)) async throws
        -> S3Location
    {
        S3Location(
            bucket: bucket, prefix: prefix, endpoint: try await endpoint(), region: "us-east-1", pathStyle: true,
            accessKeyID: accessKey, secretAccessKey: secretKey, sessionToken: nil)
    }

    /// The keys under `prefix` in the test bucket, listed by botocore (ListObjectsV2), not by the server's signer.
    public static func keys(prefix: String) async throws -> [String] {
        let output = try run([script("endpoint.py"), "list", try await endpoint(), bucket, prefix])
        return try JSONDecoder().decode([String].self, from: output)
    }

    /// Runs the venv's Python; returns stdout, throws with stderr on failure.
    public static func run(_ arguments: [String], input: Data? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let out = Pipe()
        let stdin = Pipe()
        // stderr goes to a file, so that a chatty child cannot block on a full pipe while stdout is read.
        let errorPath = NSTemporaryDirectory() + "assets-s3-stderr-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer { try? errorFile.close() }
        process.standardOutput = out
        process.standardError = errorFile
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw Failure("\(python) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(errors)")
        }
        return output
    }

    /// Creates the venv and installs moto and botocore when they are not importable.
    static func ensureVenv() throws {
        if FileManager.default.isExecutableFile(atPath: python), (try? run(["-c", "import moto.server, botocore"])) != nil {
            return
        }
        FileHandle.standardError.write(Data("TestS3: installing moto and botocore into \(venv)\n".utf8))
        let requirements = script("requirements.txt")
        for command in [["python3", "-m", "venv", venv], [venv + "/bin/pip", "install", "-q", "-r", requirements]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = command
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw Failure(
                    "could not install the S3 test endpoint (`\(command.joined(separator: " "))` exited "
                        + "\(process.terminationStatus)); S3 tests need PyPI's moto and botocore. "
                        + "Set ASSETS_SKIP_S3=1 to skip them.")
            }
        }
    }

    /// Starts `endpoint.py serve` and reads the port it chose.
    static func startMoto() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script("endpoint.py"), "serve"]
        let out = Pipe()
        let logPath = NSTemporaryDirectory() + "assets-test-moto-\(ProcessInfo.processInfo.processIdentifier).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw Failure("moto exited before it listened; its log: \(logPath)") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5))
        else { throw Failure("moto said \(text.debugDescription) instead of its port") }
        return "http://127.0.0.1:\(port)"
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}
