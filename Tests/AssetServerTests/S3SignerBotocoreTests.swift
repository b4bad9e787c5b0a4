import Foundation
import TestSupport
import Testing
import WireFormat

@testable import AssetServer

/// The server's presigned POST forms and GET links against botocore's (`scripts/lib/s3/presign.py`), with the same
/// credentials, bucket, key, conditions and a pinned clock: moto checks neither policies nor signatures, botocore
/// is the reference. Every field (name, value and order) and the whole URL must be identical.
@Suite(.enabled(if: TestS3.enabled, "ASSETS_SKIP_S3=1")) struct S3SignerBotocoreTests {
    /// 2026-12-02T15:00:00.25Z: the fraction must not reach `x-amz-date` or the policy's expiration.
    static let now = Timestamp.parseISO("2026-12-02T15:00:00.250000Z")!
    static let pinned = "2026-12-02T15:00:00"
    static let maxSize: Int64 = 5 << 30

    struct Botocore: Decodable {
        struct Post: Decodable {
            var url: String
            var fields: [[String]]
        }
        var post: Post
        var get: String
    }

    static func botocore(
        endpoint: String?, region: String, bucket: String, key: String, accessKey: String, secretKey: String,
        sessionToken: String?, addressing: String
    ) throws -> Botocore {
        var spec: [String: Any] = [
            "region": region, "bucket": bucket, "key": key, "access_key": accessKey, "secret_key": secretKey,
            "now": pinned, "max_size": maxSize, "addressing": addressing,
        ]
        spec["endpoint"] = endpoint ?? NSNull()
        spec["session_token"] = sessionToken ?? NSNull()
        let output = try TestS3.run(
            [TestS3.script("presign.py")], input: try JSONSerialization.data(withJSONObject: spec))
        return try JSONDecoder().decode(Botocore.self, from: output)
    }

    static func compare(_ store: S3BlobStore, key: String, addressing: String) async throws {
        try await TestS3.ensureInstalled()
        let location = store.location
        let expected = try botocore(
            endpoint: location.endpoint, region: location.region, bucket: location.bucket,
            key: store.objectKey(key), accessKey: location.accessKeyID, secretKey: location.secretAccessKey,
            sessionToken: location.sessionToken, addressing: addressing)
        let form = store.uploadForm(key: key, now: now, maxSize: maxSize)
        #expect(form.url == expected.post.url)
        #expect(form.fields.map { [$0.0, $0.1] } == expected.post.fields)
        #expect(store.downloadURL(key: key, now: now) == expected.get)
    }

    @Test func pathStyleEndpointWithAPrefixThatNeedsEncoding() async throws {
        let store = S3BlobStore(
            location: S3Location(
                bucket: "team-assets", prefix: "ci/ü x+y", endpoint: "http://127.0.0.1:9000", region: "us-east-1",
                pathStyle: true, accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                sessionToken: nil))
        try await Self.compare(store, key: "assets/7d0e/1f2a", addressing: "path")
    }

    @Test func sessionTokenIsSignedIntoFormAndLink() async throws {
        let store = S3BlobStore(
            location: S3Location(
                bucket: "team-assets", prefix: "", endpoint: "http://127.0.0.1:9000", region: "eu-central-1",
                pathStyle: true, accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret/with+chars=",
                sessionToken: "FwoGZXIvYXdzE/token+with=chars"))
        try await Self.compare(store, key: "exports/job/report.csv", addressing: "path")
    }

    @Test func awsRegionalEndpointIsVirtualHosted() async throws {
        let configuration = try BlobsConfiguration.parse(
            "s3://team-assets/prefix/", region: "eu-west-1",
            environment: ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"])
        guard case .s3(let location) = configuration else {
            Issue.record("s3:// parsed as \(configuration)")
            return
        }
        #expect(location.endpoint == "https://s3.eu-west-1.amazonaws.com")
        #expect(location.prefix == "prefix")
        #expect(!location.pathStyle)
        try await Self.compare(S3BlobStore(location: location), key: "archives/db/2023-01-04.jsonl", addressing: "virtual")
    }

    /// The emulated storage signs with the same SigV4 code: its fields equal botocore's for bucket `local` in
    /// region `local`, and its links equal botocore's for "bucket" `_storage` on the server's address.
    @Test func fileBlobStoreSignsAsBotocoreDoes() async throws {
        try await TestS3.ensureInstalled()
        let secret = String(repeating: "0123456789abcdef", count: 4)
        let signer = Signer(secretHex: secret)
        let key = "assets/7d0e/1f2a"
        let form = try Self.botocore(
            endpoint: "http://127.0.0.1:8710", region: "local", bucket: "local", key: key, accessKey: "local",
            secretKey: secret, sessionToken: nil, addressing: "path")
        #expect(signer.uploadFields(key: key, now: Self.now, maxSize: Self.maxSize).map { [$0.0, $0.1] } == form.post.fields)
        let link = try Self.botocore(
            endpoint: "http://127.0.0.1:8710", region: "local", bucket: "_storage", key: "objects/" + key,
            accessKey: "local", secretKey: secret, sessionToken: nil, addressing: "path")
        #expect(signer.downloadURL(baseURL: "http://127.0.0.1:8710", key: key, now: Self.now) == link.get)
    }
}
