import Foundation
import Testing

@Suite("Records")
struct RecordsTests {
    @Test func createReplaceAndMergeStrategies() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase("kv", type: "Key-Value")
            let path = "/api/databases/\(db)/records/"
            let created = try await h.post(
                path, #"{"id": "k1", "data": {"a": 1, "b": {"x": 1}}, "merge_strategy": "replace"}"#)
            #expect(created.status == 201)
            #expect(created.object["id"] as? String == "k1")
            #expect((created.object["data"] as? [String: Any])?["a"] as? Int == 1)
            #expect(created.object["created_at"] is String)
            let replaced = try await h.post(path, #"{"id": "k1", "data": {"c": 3}, "merge_strategy": "replace"}"#)
            #expect((replaced.object["data"] as? [String: Any])?.keys.sorted() == ["c"])
            #expect(replaced.object["created_at"] as? String == created.object["created_at"] as? String)
            let shallow = try await h.post(path, #"{"id": "k1", "data": {"d": {"y": 2}}, "merge_strategy": "shallow"}"#)
            #expect((shallow.object["data"] as? [String: Any])?.keys.sorted() == ["c", "d"])
            let deep = try await h.post(path, #"{"id": "k1", "data": {"d": {"z": 3}}, "merge_strategy": "deep"}"#)
            let nested = (deep.object["data"] as? [String: Any])?["d"] as? [String: Any]
            #expect(nested?.keys.sorted() == ["y", "z"])
            let defaulted = try await h.post(path, #"{"id": "k2", "data": {}}"#)
            #expect(defaulted.status == 201)

            #expect(try await h.post(path, #"{"id": "k3", "data": {}, "merge_strategy": "sum"}"#).status == 400)
            #expect(try await h.post(path, #"{"id": "k3", "data": [1]}"#).status == 400)
            #expect(try await h.post(path, #"{"data": {}}"#).status == 400)
            #expect(try await h.post(path, #"{"id": "k3", "data": {}, "extra": 1}"#).status == 400)
            let database = try await h.get("/api/databases/\(db)/")
            #expect(database.object["num_records"] as? Int == 2)
            #expect(database.object["last_write_at"] is String)
        }
    }

    @Test func filtersAndPagination() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase("kv", type: "Key-Value")
            let seed = """
                {"database": "\(db)", "records": [
                  {"id": "r1", "data": {"user email": "david@pixiebrix.com", "n": 1}, "created_at": "2024-01-01T10:00:00Z"},
                  {"id": "r2", "data": {"user email": "eve@example.com", "note": null}, "created_at": "2024-01-02T10:00:00Z"},
                  {"id": "r3", "data": {"user email": "david@pixiebrix.com", "note": "x"}, "created_at": "2024-01-03T23:59:59.5Z"},
                  {"id": "r4", "data": {"Name": "case"}, "created_at": "2024-01-04T00:00:00Z"}
                ]}
                """
            let seeded = try await h.admin("records", seed)
            #expect(seeded.status == 201)
            #expect(seeded.object["records"] as? Int == 4)
            func ids(_ query: String, accept: String = Harness.v2) async throws -> [String] {
                let reply = try await h.get("/api/databases/\(db)/records/\(query)", accept: accept)
                #expect(reply.status == 200, "\(query): \(reply.text)")
                return reply.array.compactMap { $0["id"] as? String }
            }
            #expect(try await ids("") == ["r1", "r2", "r3", "r4"])
            #expect(try await ids("?start_date=2024-01-02") == ["r2", "r3", "r4"])
            #expect(try await ids("?end_date=2024-01-03") == ["r1", "r2", "r3"])
            #expect(try await ids("?start_date=2024-01-02&end_date=2024-01-03") == ["r2", "r3"])
            #expect(try await ids("?data__user%20email=david%40pixiebrix.com") == ["r1", "r3"])
            #expect(try await ids("?data__user+email=david%40pixiebrix.com&start_date=2024-01-02") == ["r3"])
            #expect(try await ids("?data__note__isnull=true") == ["r1", "r2", "r4"])
            #expect(try await ids("?data__note__isnull=false") == ["r3"])
            #expect(try await ids("?data__name=case") == [])
            #expect(try await ids("?data__Name=case") == ["r4"])
            #expect(try await ids("?data__n=1") == [])
            let bad = try await h.get("/api/databases/\(db)/records/?start_date=yesterday")
            #expect(bad.status == 400)

            let page = try await h.get("/api/databases/\(db)/records/?page_size=3")
            #expect(page.array.count == 3)
            #expect(page["X-Total-Count"] == nil)
            #expect(page.links["last"] == nil)
            let next = try #require(page.links["next"])
            let second = try await h.get(h.pathAndQuery(next))
            #expect(second.array.compactMap { $0["id"] as? String } == ["r4"])
            #expect(second.links["next"] == nil)
            #expect(second.links["prev"] != nil)
            let version1 = try await ids("?page_size=1", accept: "application/json")
            #expect(version1.count == 4)
            let record = try await h.get("/api/databases/\(db)/records/?page_size=1")
            let first = try #require(record.array.first)
            #expect(first.keys.sorted() == ["created_at", "data", "id"])
            #expect(first["created_at"] as? String == "2024-01-01T10:00:00Z")
            let fraction = try await h.get("/api/databases/\(db)/records/?start_date=2024-01-03&end_date=2024-01-03")
            #expect(fraction.array.first?["created_at"] as? String == "2024-01-03T23:59:59.500000Z")
        }
    }

    @Test func csvPagesCarryTheirOwnHeader() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase("kv", type: "Key-Value")
            _ = try await h.admin(
                "records",
                """
                {"database": "\(db)", "records": [
                  {"id": "a", "data": {"name": "Smith, J", "quote": "say \\"hi\\"", "n": 2}, "created_at": "2024-01-01T00:00:00Z"},
                  {"id": "b", "data": {"name": "line\\nbreak", "flag": true}, "created_at": "2024-01-02T00:00:00Z"}
                ]}
                """)
            let csv = try await h.get("/api/databases/\(db)/records/?page_size=1", accept: "text/csv; version=2.0")
            #expect(csv.status == 200)
            #expect(csv["Content-Type"] == "text/csv; version=2.0")
            #expect(
                csv.text == "id,created_at,name,quote,n\r\na,2024-01-01T00:00:00Z,\"Smith, J\",\"say \"\"hi\"\"\",2\r\n"
            )
            let second = try await h.get(
                h.pathAndQuery(try #require(csv.links["next"])), accept: "text/csv; version=2.0")
            #expect(second.text == "id,created_at,name,flag\r\nb,2024-01-02T00:00:00Z,\"line\nbreak\",true\r\n")
            let all = try await h.get("/api/databases/\(db)/records/", accept: "text/csv")
            #expect(all["Content-Type"] == "text/csv; version=1.0")
            #expect(all.text.hasPrefix("id,created_at,name,quote,n,flag\r\n"))
        }
    }
}
