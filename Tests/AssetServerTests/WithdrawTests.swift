import Crypto
import Foundation
import Testing

/// `PATCH {"is_uploaded": false}` withdraws an asset, as the vendor's OpenAPI allows; `true` brings it back.
@Suite("Asset withdrawal")
struct WithdrawTests {
    @Test("a withdrawn asset is no longer downloadable, stays listed as not uploaded, and marks again")
    func withdrawAndRestore() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let bytes = randomBytes(5_000)
            let id = try await h.uploadedAsset(db, filename: "w.bin", bytes: bytes)
            let before = try await h.get("/api/databases/\(db)/assets/\(id)/")
            #expect(before.status == 302)
            let location = try #require(before["Location"])

            let withdrawn = try await h.send(.patch, "/api/databases/\(db)/assets/\(id)/", json: #"{"is_uploaded": false}"#)
            #expect(withdrawn.status == 200, "\(withdrawn.text)")
            #expect(withdrawn.object["is_uploaded"] as? Bool == false)
            #expect(try await h.get("/api/databases/\(db)/assets/\(id)/").status == 404)
            let meta = try await h.get("/api/databases/\(db)/assets/\(id)/?meta=true")
            #expect(meta.object["is_uploaded"] as? Bool == false)
            let list = try await h.get("/api/databases/\(db)/assets/")
            #expect(list.array.map { $0["id"] as? String } == [id])
            #expect(list.array.map { $0["is_uploaded"] as? Bool } == [false])
            // Withdrawing twice is the same withdrawal.
            let again = try await h.send(.patch, "/api/databases/\(db)/assets/\(id)/", json: #"{"is_uploaded": false}"#)
            #expect(again.status == 200)

            let restored = try await h.send(.patch, "/api/databases/\(db)/assets/\(id)/", json: #"{"is_uploaded": true}"#)
            #expect(restored.status == 200)
            let after = try await h.get("/api/databases/\(db)/assets/\(id)/")
            #expect(after.status == 302)
            let download = try await h.send(.get, h.pathAndQuery(try #require(after["Location"])), auth: .none, accept: nil)
            #expect(download.bytes == bytes)
            // A link signed before the withdrawal names the same object: storage itself knows nothing of the flag.
            #expect(location.hasPrefix("\(h.base)/_storage/objects/"))
        }
    }

    @Test("the corrupt admin route changes the stored bytes but not the ETag storage answers with")
    func corruptKeepsETag() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let bytes = randomBytes(4_001)
            let id = try await h.uploadedAsset(db, filename: "c.bin", bytes: bytes)
            let corrupt = try await h.admin("corrupt", #"{"database": "\#(db)", "asset": "\#(id)"}"#)
            #expect(corrupt.status == 200, "\(corrupt.text)")
            #expect(corrupt.object["offset"] as? Int == 2000)
            let redirect = try await h.get("/api/databases/\(db)/assets/\(id)/")
            let download = try await h.send(.get, h.pathAndQuery(try #require(redirect["Location"])), auth: .none, accept: nil)
            let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            #expect(download["ETag"] == "\"\(md5)\"")
            var expected = bytes
            expected[2000] ^= 0xFF
            #expect(download.bytes == expected)

            let unknown = try await h.admin("corrupt", #"{"database": "\#(db)", "asset": "\#(UUID().uuidString.lowercased())"}"#)
            #expect(unknown.status == 400)
        }
    }
}
