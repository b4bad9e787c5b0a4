import Foundation
import TestSupport
import Testing

@Suite("Storage emulation")
struct StorageTests {
    @Test(.disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's")) func presignedPostIsCheckedAsS3ChecksIt() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let asset = try await h.createAsset(db)
            var badSignature = asset.fields
            badSignature[5].1 = String(repeating: "0", count: 64)
            let signature = try await h.upload(badSignature, file: [1])
            #expect(signature.status == 403)
            #expect(signature.text.contains("<Code>SignatureDoesNotMatch</Code>"))

            var otherKey = asset.fields
            otherKey[0].1 = "assets/elsewhere"
            let key = try await h.upload(otherKey, file: [1])
            #expect(key.status == 403)
            #expect(key.text.contains("AccessDenied"))

            let extra = try await h.upload(asset.fields + [("acl", "public-read")], file: [1])
            #expect(extra.status == 403)
            #expect(extra.text.contains("Extra input fields"))

            let noKey = try await h.upload(Array(asset.fields.dropFirst()), file: [1])
            #expect(noKey.status == 400)

            let fileFirst = try await h.upload(asset.fields, file: [1], fileFirst: true)
            #expect(fileFirst.status == 400)

            let authorized = try await h.upload(
                asset.fields, file: [1], headers: ["Authorization": "Token \(h.server.token)"])
            #expect(authorized.status == 400)

            let created = try await h.upload(asset.fields + [("success_action_status", "201")], file: [1, 2])
            #expect(created.status == 201)
            #expect(created.text.contains("<PostResponse>"))
            #expect(created["ETag"] != nil)

            _ = try await h.admin("clock", #"{"advance": 3601}"#)
            let expired = try await h.upload(asset.fields, file: [1])
            #expect(expired.status == 403)
            #expect(expired.text.contains("Policy expired"))
        }
    }

    @Test(.disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's")) func sizeRangeAndLengthRequired() async throws {
        try await withHarness(configure: { $0.limits.maxUploadSize = 1000 }) { h in
            let db = try await h.createDatabase()
            let asset = try await h.createAsset(db)
            #expect(try await h.upload(asset.fields, file: randomBytes(1000)).status == 204)
            let big = try await h.upload(asset.fields, file: randomBytes(1001))
            #expect(big.status == 400)
            #expect(big.text.contains("EntityTooLarge"))
            let far = try await h.upload(asset.fields, file: randomBytes(200_000))
            #expect(far.status == 400)

            let file = temporaryDirectory() + "/f"
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: file))
            var form = asset.fields.flatMap { ["-F", "\($0.0)=\($0.1)"] }
            form += ["-F", "file=@\(file)"]
            let chunked = try await curl(
                ["-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked"] + form + [asset.uploadURL]
            )
            #expect(chunked.output == "411")
            let plain = try await curl(["-o", "/dev/null", "-w", "%{http_code}"] + form + [asset.uploadURL])
            #expect(plain.output == "204")
            let notMultipart = try await curl(
                [
                    "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json", "-d", "{}",
                    asset.uploadURL,
                ])
            #expect(notMultipart.output == "412")
        }
    }

    @Test(.disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's")) func downloadLinksExpireAndAreSigned() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let id = try await h.uploadedAsset(db, bytes: Array("hello".utf8))
            let location = try #require(try await h.get("/api/databases/\(db)/assets/\(id)/")["Location"])
            let path = h.pathAndQuery(location)
            #expect(try await h.send(.get, path, auth: .none, accept: nil).text == "hello")
            let tampered = path.replacingOccurrences(of: "X-Amz-Expires=3600", with: "X-Amz-Expires=9999")
            #expect(try await h.send(.get, tampered, auth: .none, accept: nil).status == 403)
            let unsigned = String(path.prefix { $0 != "?" })
            #expect(try await h.send(.get, unsigned, auth: .none, accept: nil).status == 403)
            let post = try await h.send(.post, path, json: "{}", auth: .none, accept: nil)
            #expect(post.status == 405)
            _ = try await h.admin("clock", #"{"advance": 3601}"#)
            let expired = try await h.send(.get, path, auth: .none, accept: nil)
            #expect(expired.status == 403)
            #expect(expired.text.contains("<Code>AccessDenied</Code>"))
            let fresh = try #require(try await h.get("/api/databases/\(db)/assets/\(id)/")["Location"])
            #expect(try await h.send(.get, h.pathAndQuery(fresh), auth: .none, accept: nil).status == 200)
        }
    }

    @Test func largeUploadAndDownloadStreamThroughFiles() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let asset = try await h.createAsset(db, filename: "big.bin")
            let directory = temporaryDirectory()
            let source = directory + "/big.bin"
            let size = 48 << 20
            var chunk = randomBytes(1 << 20)
            _ = FileManager.default.createFile(atPath: source, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
            for index in 0..<(size >> 20) {
                chunk[0] = UInt8(index & 0xFF)
                try handle.write(contentsOf: chunk)
            }
            try handle.close()
            let form = asset.fields.flatMap { ["-F", "\($0.0)=\($0.1)"] } + ["-F", "file=@\(source)"]
            let upload = try await curl(["-o", "/dev/null", "-w", "%{http_code}"] + form + [asset.uploadURL])
            #expect(upload.output == "204")
            _ = try await h.send(.patch, "/api/databases/\(db)/assets/\(asset.id)/", json: #"{"is_uploaded": true}"#)
            let location = try #require(try await h.get("/api/databases/\(db)/assets/\(asset.id)/")["Location"])
            let target = directory + "/copy.bin"
            let download = try await curl(["-o", target, "-w", "%{http_code}", location])
            #expect(download.output == "200")
            #expect(FileManager.default.contentsEqual(atPath: source, andPath: target))
        }
    }
}
