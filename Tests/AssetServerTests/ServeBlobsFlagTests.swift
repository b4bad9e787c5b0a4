import AssetServer
import Foundation
import TestSupport
import Testing

/// `--blobs`, `--s3-endpoint`, `--s3-region` and the AWS variables, as `assets serve` reads them.
@Suite struct ServeBlobsFlagTests {
    static let credentials = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]

    static func refusal(
        _ text: String, endpoint: String? = nil, region: String = "us-east-1", environment: [String: String]
    ) -> String? {
        do {
            _ = try BlobsConfiguration.parse(text, endpoint: endpoint, region: region, environment: environment)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func eachRefusalNamesWhatToFix() {
        #expect(Self.refusal("s3://bucket", environment: [:])?.contains("AWS_ACCESS_KEY_ID") == true)
        #expect(
            Self.refusal("s3://bucket", environment: ["AWS_ACCESS_KEY_ID": "a"])?.contains("AWS_SECRET_ACCESS_KEY")
                == true)
        #expect(Self.refusal("s3://Bad_Bucket", environment: Self.credentials)?.contains("--blobs") == true)
        #expect(Self.refusal("gs://bucket", environment: Self.credentials)?.contains("--blobs") == true)
        #expect(
            Self.refusal("s3://bucket", endpoint: "ftp://x", environment: Self.credentials)?.contains("--s3-endpoint")
                == true)
        #expect(
            Self.refusal("s3://bucket", region: "us east", environment: Self.credentials)?.contains("--s3-region")
                == true)
        #expect(Self.refusal("file", endpoint: "http://x", environment: [:])?.contains("--s3-endpoint") == true)
    }

    @Test func aLocationKeepsBucketPrefixAndTokenButNeverPrintsSecrets() throws {
        let parsed = try BlobsConfiguration.parse(
            "s3://team.assets/a/b/", endpoint: "http://127.0.0.1:9000/", region: "eu-west-1",
            environment: Self.credentials.merging(["AWS_SESSION_TOKEN": "tok"]) { $1 })
        guard case .s3(let location) = parsed else {
            Issue.record("parsed as \(parsed)")
            return
        }
        #expect(location.bucket == "team.assets")
        #expect(location.prefix == "a/b")
        #expect(location.endpoint == "http://127.0.0.1:9000")
        #expect(location.pathStyle)
        #expect(location.sessionToken == "tok")
        #expect(!"\(location)".contains("secret") && !"\(location)".contains("tok"))
        #expect(try BlobsConfiguration.parse("file", environment: [:]) == .file)
    }

    @Test func theBinaryRefusesS3WithoutCredentials() async throws {
        let outcome = try await CLI.run(
            ["serve", "--data", temporaryDirectory(), "--port", "0", "--blobs", "s3://assets-test"],
            environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("AWS_ACCESS_KEY_ID"))
    }

    @Test(.enabled(if: TestS3.enabled, "ASSETS_SKIP_S3=1"))
    func theBinaryIssuesUploadsToTheBucket() async throws {
        let location = try await TestS3.location()
        try CLI.requireBinary()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = [
            "serve", "--data", temporaryDirectory(), "--port", "0", "--token", "s3-token", "--blobs",
            "s3://\(location.bucket)/\(location.prefix)", "--s3-endpoint", location.endpoint,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = TestS3.accessKey
        environment["AWS_SECRET_ACCESS_KEY"] = TestS3.secretKey
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let banner = try await Self.firstLine(output.fileHandleForReading)
        let base = try #require(
            banner.hasPrefix("assets serve: listening on ") ? String(banner.dropFirst(27)) : nil, "banner: \(banner)")
        let headers = [
            "-H", "Authorization: Token s3-token", "-H", "Content-Type: application/json", "-H",
            "Accept: application/json; version=2.0",
        ]
        let database = try await curl(headers + ["-d", #"{"name": "s3", "type": "Asset"}"#, "\(base)/api/databases/"])
        let id = try #require(
            (try JSONSerialization.jsonObject(with: Data(database.output.utf8)) as? [String: Any])?["id"] as? String)
        let created = try await curl(headers + ["-d", #"{"filename": "a.txt"}"#, "\(base)/api/databases/\(id)/assets/"])
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(created.output.utf8)) as? [String: Any])
        #expect(answer["upload_url"] as? String == "\(location.endpoint)/\(location.bucket)")
        let key = (answer["fields"] as? [String: String])?["key"]
        #expect(key?.hasPrefix("\(location.prefix)/assets/\(id)/") == true)
    }

    /// The first line the server prints, read off the cooperative pool.
    static func firstLine(_ handle: FileHandle) async throws -> String {
        await withCheckedContinuation { continuation in
            Thread {
                var text = ""
                while !text.contains("\n") {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                continuation.resume(returning: String(text.split(separator: "\n").first ?? ""))
            }.start()
        }
    }
}
