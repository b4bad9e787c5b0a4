import Foundation
import Testing

@Suite("Databases and the common rules")
struct DatabasesTests {
    @Test func createGetAndList() async throws {
        try await withHarness { h in
            let created = try await h.post("/api/databases/", #"{"name": "Images", "type": "Asset"}"#)
            #expect(created.status == 201)
            #expect(created["Content-Type"] == "application/json; version=2.0")
            let id = try #require(created.object["id"] as? String)
            #expect(id == id.lowercased())
            #expect(created.object["organization_id"] as? String == h.server.organizationID)
            #expect(created.object["type"] as? String == "Asset")
            #expect(created.object["num_records"] as? Int == 0)
            #expect(created.object["last_write_at"] is NSNull)
            let createdAt = try #require(created.object["created_at"] as? String)
            #expect(createdAt.hasSuffix("Z"))

            let one = try await h.get("/api/databases/\(id)/")
            #expect(one.status == 200)
            #expect(one.object["name"] as? String == "Images")

            let keyValue = try await h.post("/api/databases/", #"{"name": "KV"}"#)
            #expect(keyValue.object["type"] as? String == "Key-Value")

            let list = try await h.get("/api/databases/")
            #expect(list.array.count == 2)
            #expect(list["X-Total-Count"] == "2")
            let org = try await h.get("/api/organizations/\(h.server.organizationID)/databases/")
            #expect(org.array.map { $0["id"] as? String } == list.array.map { $0["id"] as? String })
            let otherOrg = try await h.get("/api/organizations/\(UUID().uuidString.lowercased())/databases/")
            #expect(otherOrg.status == 404)
        }
    }

    @Test func paginationVersion2AndUnpaginatedVersion1() async throws {
        try await withHarness { h in
            for index in 0..<5 { _ = try await h.createDatabase("db\(index)") }
            let first = try await h.get("/api/databases/?page_size=2")
            #expect(first.array.count == 2)
            #expect(first["X-Total-Count"] == "5")
            let links = first.links
            #expect(links["next"] == "\(h.base)/api/databases/?page_size=2&page=2")
            #expect(links["last"] == "\(h.base)/api/databases/?page_size=2&page=3")
            #expect(links["first"] != nil)
            #expect(links["prev"] == nil)
            let last = try await h.get(h.pathAndQuery(links["last"]!))
            #expect(last.array.count == 1)
            #expect(last.links["next"] == nil)
            #expect(last.links["prev"] != nil)
            let beyond = try await h.get("/api/databases/?page=4&page_size=2")
            #expect(beyond.status == 404)
            let clamped = try await h.get("/api/databases/?page_size=5000")
            #expect(clamped.array.count == 5)

            for accept in [nil, "application/json", "application/json; version=1.0", "application/json; version=1.1"] {
                let plain = try await h.get("/api/databases/?page_size=2", accept: accept)
                #expect(plain.status == 200)
                #expect(plain.array.count == 5)
                #expect(plain["Link"] == nil)
            }
            let version10 = try await h.get("/api/databases/", accept: nil)
            #expect(version10["Content-Type"] == "application/json; version=1.0")
            let synonym = try await h.get("/api/databases/", accept: "application/vnd.pixiebrix.api+json; version=2.0")
            #expect(synonym["Content-Type"] == "application/vnd.pixiebrix.api+json; version=2.0")
        }
    }

    @Test func checkOrderNotFoundThenVersionThenAuthThenMethod() async throws {
        try await withHarness { h in
            // Unknown path wins over everything.
            let unknown = try await h.get("/api/nothing/", accept: "application/json; version=9.9", auth: .none)
            #expect(unknown.status == 404)
            let noSlash = try await h.get("/api/databases")
            #expect(noSlash.status == 404)
            let id = try await h.createDatabase()
            let upper = try await h.get("/api/databases/\(id.uppercased())/")
            #expect(upper.status == 404)
            let notUUID = try await h.get("/api/databases/not-a-uuid/")
            #expect(notUUID.status == 404)
            // Then the version.
            let badVersion = try await h.get("/api/databases/", accept: "application/json; version=3.0", auth: .none)
            #expect(badVersion.status == 406)
            #expect(badVersion.detail == "Invalid version in \"Accept\" header.")
            let csv = try await h.get("/api/databases/", accept: "text/csv; version=2.0")
            #expect(csv.status == 406)
            // Then authentication.
            let missing = try await h.get("/api/databases/", auth: .none)
            #expect(missing.status == 401)
            #expect(missing.detail != nil)
            let wrong = try await h.send(.delete, "/api/databases/", auth: .token("nope"))
            #expect(wrong.status == 401)
            #expect(wrong.detail == "Invalid token.")
            #expect(wrong["WWW-Authenticate"] == "Token")
            let bearer = try await h.send(
                .get, "/api/databases/", headers: ["Authorization": "Bearer \(h.server.token)"])
            #expect(bearer.status == 401)
            let lower = try await h.send(
                .get, "/api/databases/", auth: .none, headers: ["Authorization": "token \(h.server.token)"])
            #expect(lower.status == 200)
            let head = try await h.send(.head, "/api/databases/")
            #expect(head.status == 200)
            #expect(head.bytes.isEmpty)
            #expect(head["Content-Length"] == (try await h.get("/api/databases/"))["Content-Length"])
            // Then the method.
            let method = try await h.send(.delete, "/api/databases/")
            #expect(method.status == 405)
            #expect(method["Allow"] == "GET, POST")
            let unknownDatabase = try await h.get("/api/databases/\(UUID().uuidString.lowercased())/")
            #expect(unknownDatabase.status == 404)
            #expect(unknownDatabase.detail == "Not found.")
        }
    }

    @Test func bodyRules() async throws {
        try await withHarness { h in
            let text = try await h.client.execute(
                .init(
                    "/api/databases/", method: .post, authority: h.authority,
                    headers: [.authorization: "Token \(h.server.token)", .contentType: "text/plain"],
                    body: .init(string: #"{"name": "x"}"#)))
            #expect(text.status.code == 415)
            let unknownField = try await h.post("/api/databases/", #"{"name": "x", "color": "red"}"#)
            #expect(unknownField.status == 400)
            #expect((unknownField.object["color"] as? [String])?.isEmpty == false)
            let missing = try await h.post("/api/databases/", #"{}"#)
            #expect(missing.status == 400)
            #expect(missing.object["name"] as? [String] == ["This field is required."])
            let badType = try await h.post("/api/databases/", #"{"name": "x", "type": "Blob"}"#)
            #expect(badType.status == 400)
            #expect(badType.object["type"] != nil)
            let broken = try await h.post("/api/databases/", #"{"name": "#)
            #expect(broken.status == 400)
            #expect(broken.detail?.hasPrefix("JSON parse error") == true)
            let list = try await h.post("/api/databases/", #"[1]"#)
            #expect(list.status == 400)
            let huge = try await h.post("/api/databases/", #"{"name": "\#(String(repeating: "x", count: 1_100_000))"}"#)
            #expect(huge.status == 413)
        }
    }

    @Test func tokensSeeOnlyTheirOwnDatabases() async throws {
        try await withHarness { h in
            let mainDatabase = try await h.createDatabase("main")
            let issued = try await h.admin("tokens", "{}")
            #expect(issued.status == 201)
            let token = try #require(issued.object["token"] as? String)
            let own = try await h.createDatabase("own", auth: .token(token))
            let listed = try await h.get("/api/databases/", auth: .token(token))
            #expect(listed.array.map { $0["id"] as? String } == [own])
            let forbidden = try await h.get("/api/databases/\(mainDatabase)/", auth: .token(token))
            #expect(forbidden.status == 403)
            #expect(forbidden.detail == "You do not have permission to perform this action.")
            let forbiddenAssets = try await h.post(
                "/api/databases/\(mainDatabase)/assets/", #"{"filename": "x"}"#, auth: .token(token))
            #expect(forbiddenAssets.status == 403)
            let mainSeesAll = try await h.get("/api/databases/")
            #expect(mainSeesAll.array.count == 2)
            let adminByOther = try await h.send(.post, "/_admin/tokens", json: "{}", auth: .token(token), accept: nil)
            #expect(adminByOther.status == 403)
            let adminWithout = try await h.send(
                .post, "/_admin/clock", json: #"{"advance": 1}"#, auth: .none, accept: nil)
            #expect(adminWithout.status == 401)
        }
    }
}
