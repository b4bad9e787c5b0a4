import Crypto
import Foundation
import TestSupport
import Testing

@testable import AssetServer

/// The S3 blob store's own requests (signed HEAD, PUT, multipart upload, GET) against moto.
@Suite(.enabled(if: TestS3.enabled, "ASSETS_SKIP_S3=1")) struct S3BlobStoreTests {
    static func file(_ bytes: [UInt8]) throws -> String {
        let path = temporaryDirectory() + "/blob"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func headSeesNothingThenThePutObjectWithItsSize() async throws {
        let location = try await TestS3.location()
        let store = S3BlobStore(location: location)
        #expect(try await store.size(of: "exports/job/a.json") == nil)
        let bytes = randomBytes(1000)
        try await store.store(
            file: try Self.file(bytes), key: "exports/job/a.json", size: 1000, md5: "", contentType: "application/json",
            now: 0)
        #expect(try await store.size(of: "exports/job/a.json") == 1000)
        #expect(try await store.contents(of: "exports/job/a.json") == bytes)
        #expect(try await TestS3.keys(prefix: location.prefix + "/") == ["\(location.prefix)/exports/job/a.json"])
    }

    /// The PUT carries `Content-MD5`, so S3 refuses bytes that differ from the file written (moto does not check it).
    @Test func aPutCarriesTheFilesMD5() async throws {
        #expect(S3BlobStore.contentMD5(hex: "d41d8cd98f00b204e9800998ecf8427e") == "1B2M2Y8AsgTpgAmY7PhCfg==")
        #expect(S3BlobStore.contentMD5(hex: "") == nil)
        #expect(S3BlobStore.contentMD5(hex: String(repeating: "z", count: 32)) == nil)
        let store = S3BlobStore(location: try await TestS3.location())
        let bytes = randomBytes(2000)
        let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        try await store.store(
            file: try Self.file(bytes), key: "exports/ok", size: 2000, md5: md5, contentType: "text/plain", now: 0)
        #expect(try await store.contents(of: "exports/ok") == bytes)
    }

    @Test func aFileLargerThanOnePartGoesUpInParts() async throws {
        let location = try await TestS3.location()
        let partSize = 5 << 20
        let store = S3BlobStore(location: location, partSize: partSize)
        let bytes = randomBytes(2 * partSize + 12345)
        try await store.store(
            file: try Self.file(bytes), key: "archives/db/2023-01-01.jsonl", size: Int64(bytes.count), md5: "",
            contentType: "application/x-ndjson", now: 0)
        #expect(try await store.size(of: "archives/db/2023-01-01.jsonl") == Int64(bytes.count))
        let back = try #require(try await store.contents(of: "archives/db/2023-01-01.jsonl"))
        #expect(SHA256.hash(data: back) == SHA256.hash(data: bytes))
    }

    @Test func aRefusedRequestNamesTheObject() async throws {
        var location = try await TestS3.location()
        location.bucket = "no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())"
        let store = S3BlobStore(location: location)
        await #expect {
            try await store.store(
                file: try Self.file([1, 2, 3]), key: "exports/x", size: 3, md5: "", contentType: "text/plain", now: 0)
        } throws: { error in
            let text = "\(error)"
            return text.contains("s3://\(location.bucket)/\(location.prefix)/exports/x") && text.contains("404")
        }
    }
}
