import Crypto
import Foundation
import TestSupport
import Testing

@Suite("Assets")
struct AssetsTests {
    @Test(.disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's")) func lifecycleCreateUploadMarkMetaDownload() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let asset = try await h.createAsset(db, filename: "photos/cat.png")
            #expect(
                asset.fields.map(\.0) == [
                    "key", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature",
                ])
            #expect(asset.uploadURL == "\(h.base)/_storage/upload/")
            let policy = try #require(Data(base64Encoded: asset.fields[4].1))
            let decoded = try #require(try JSONSerialization.jsonObject(with: policy) as? [String: Any])
            #expect(decoded["expiration"] is String)
            let conditions = try #require(decoded["conditions"] as? [Any])
            #expect(conditions.contains { ($0 as? [Any])?.first as? String == "content-length-range" })

            let early = try await h.send(
                .patch, "/api/databases/\(db)/assets/\(asset.id)/", json: #"{"is_uploaded": true}"#)
            #expect(early.status == 400)
            #expect(early.object["is_uploaded"] != nil)
            let notYet = try await h.get("/api/databases/\(db)/assets/\(asset.id)/")
            #expect(notYet.status == 404)

            let bytes = randomBytes(100_000)
            let upload = try await h.upload(asset.fields, file: bytes)
            #expect(upload.status == 204)
            #expect(
                upload["ETag"] == "\"\(Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined())\"")

            let extra = try await h.send(
                .patch, "/api/databases/\(db)/assets/\(asset.id)/", json: #"{"is_uploaded": true, "filename": "x"}"#)
            #expect(extra.status == 400)
            let marked = try await h.send(
                .patch, "/api/databases/\(db)/assets/\(asset.id)/", json: #"{"is_uploaded": true}"#)
            #expect(marked.status == 200)
            #expect(marked.object["is_uploaded"] as? Bool == true)
            let meta = try await h.get("/api/databases/\(db)/assets/\(asset.id)/?meta=true")
            #expect(meta.object["filename"] as? String == "photos/cat.png")
            #expect(meta.object["download_url"] as? String == "\(h.base)/api/databases/\(db)/assets/\(asset.id)/")

            let redirect = try await h.get("/api/databases/\(db)/assets/\(asset.id)/")
            #expect(redirect.status == 302)
            let location = try #require(redirect["Location"])
            #expect(location.hasPrefix("\(h.base)/_storage/objects/"))
            #expect(location.contains("X-Amz-Signature="))
            let download = try await h.send(.get, h.pathAndQuery(location), auth: .none, accept: nil)
            #expect(download.status == 200)
            #expect(download.bytes == bytes)
            #expect(download["ETag"] == upload["ETag"])
            #expect(download["Content-Length"] == "100000")

            let first = try await h.send(
                .get, h.pathAndQuery(location), auth: .none, accept: nil, headers: ["Range": "bytes=0-0"])
            #expect(first.status == 206)
            #expect(first["Content-Range"] == "bytes 0-0/100000")
            #expect(first.bytes == [bytes[0]])
            let tail = try await h.send(
                .get, h.pathAndQuery(location), auth: .none, accept: nil, headers: ["Range": "bytes=99990-"])
            #expect(tail.bytes == Array(bytes[99990...]))
            let suffix = try await h.send(
                .get, h.pathAndQuery(location), auth: .none, accept: nil, headers: ["Range": "bytes=-10"])
            #expect(suffix["Content-Range"] == "bytes 99990-99999/100000")
            let outside = try await h.send(
                .get, h.pathAndQuery(location), auth: .none, accept: nil, headers: ["Range": "bytes=100000-"])
            #expect(outside.status == 416)
            #expect(outside["Content-Range"] == "bytes */100000")
            let head = try await h.send(.head, h.pathAndQuery(location), auth: .none, accept: nil)
            #expect(head.status == 200)
            #expect(head["Content-Length"] == "100000")
            #expect(head.bytes.isEmpty)
            let withToken = try await h.send(.get, h.pathAndQuery(location), accept: nil)
            #expect(withToken.status == 400)
            #expect(withToken.text.contains("<Error><Code>"))
        }
    }

    @Test func listingHoldsUploadedAndNotUploaded() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            _ = try await h.uploadedAsset(db, filename: "one", bytes: [1, 2, 3])
            _ = try await h.createAsset(db, filename: "two")
            _ = try await h.createAsset(db, filename: "two")
            let list = try await h.get("/api/databases/\(db)/assets/")
            #expect(list.array.map { $0["filename"] as? String } == ["one", "two", "two"])
            #expect(list.array.map { $0["is_uploaded"] as? Bool } == [true, false, false])
            #expect(list["X-Total-Count"] == "3")
            let paged = try await h.get("/api/databases/\(db)/assets/?page_size=2&page=2")
            #expect(paged.array.count == 1)
            let unpaginated = try await h.get("/api/databases/\(db)/assets/", accept: "application/json")
            #expect(unpaginated.array.count == 3)
        }
    }

    @Test func filenameRules() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let path = "/api/databases/\(db)/assets/"
            let longest = String(repeating: "é", count: 255)
            #expect(try await h.post(path, #"{"filename": "\#(longest)"}"#).status == 201)
            let emoji = String(repeating: "🐈", count: 255)
            #expect(try await h.post(path, #"{"filename": "\#(emoji)"}"#).status == 201)
            let tooLong = try await h.post(path, #"{"filename": "\#(String(repeating: "a", count: 256))"}"#)
            #expect(tooLong.status == 400)
            #expect(tooLong.object["filename"] != nil)
            #expect(try await h.post(path, #"{"filename": ""}"#).status == 400)
            #expect(try await h.post(path, #"{"filename": 7}"#).status == 400)
            #expect(try await h.post(path, #"{}"#).status == 400)
            #expect(try await h.post(path, #"{"filename": "a", "size": 1}"#).status == 400)
            let traversal = try await h.createAsset(db, filename: "../../etc/passwd")
            #expect(try await h.upload(traversal.fields, file: [1]).status == 204)
            let blobs = try FileManager.default.contentsOfDirectory(atPath: h.dataDirectory + "/blobs")
            #expect(blobs.allSatisfy { $0 == "tmp" || UUID(uuidString: $0) != nil })
            let missing = try await h.get("/api/databases/\(db)/assets/\(UUID().uuidString.lowercased())/?meta=true")
            #expect(missing.status == 404)
            let wrongMethod = try await h.send(.put, "/api/databases/\(db)/assets/\(traversal.id)/", json: "{}")
            #expect(wrongMethod.status == 405)
            let patchText = try await h.send(
                .patch, "/api/databases/\(db)/assets/\(traversal.id)/", json: #"{"is_uploaded": "yes"}"#)
            #expect(patchText.status == 400)
        }
    }
}
