import Foundation
import Testing
import ZIPFoundation

@Suite("Export jobs and record archives")
struct ExportAndArchiveTests {
    static let v1 = "application/json; version=1.0"

    func waitForJob(_ h: Harness, _ id: String) async throws -> [String: Any] {
        for _ in 0..<200 {
            let job = try await h.get("/api/databases/records/jobs/\(id)/", accept: Self.v1)
            #expect(job.status == 200)
            if let status = job.object["status"] as? String, status == "SUCCESS" || status == "FAILURE" {
                return job.object
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("export \(id) did not finish")
        return [:]
    }

    func seedTwoDatabases(_ h: Harness) async throws -> (String, String) {
        let first = try await h.createDatabase("first", type: "Key-Value")
        let second = try await h.createDatabase("second", type: "Key-Value")
        _ = try await h.admin(
            "records",
            """
            {"database": "\(first)", "records": [
              {"id": "a", "data": {"name": "Ann", "age": 30}, "created_at": "2024-01-01T00:00:00Z"},
              {"id": "b", "data": {"name": "Bob & <Co>", "ok": true}, "created_at": "2024-02-01T00:00:00Z"}]}
            """)
        _ = try await h.admin(
            "records",
            #"{"database": "\#(second)", "records": [{"id": "c", "data": {"city": "Paris"}, "created_at": "2024-03-01T00:00:00Z"}]}"#
        )
        return (first, second)
    }

    func download(_ h: Harness, _ url: String) async throws -> Reply {
        try await h.fetch(url)
    }

    @Test func jsonAndCsvExportsAcrossDatabases() async throws {
        try await withHarness { h in
            let (first, second) = try await seedTwoDatabases(h)
            let created = try await h.send(
                .post, "/api/databases/records/jobs/",
                json: #"{"name": "Q1 report", "databases": ["\#(first)", "\#(second)"]}"#, accept: Self.v1)
            #expect(created.status == 201)
            #expect(created.object["status"] as? String == "STARTED")
            #expect(created.object.keys.sorted() == ["id", "status"])
            let job = try await waitForJob(h, try #require(created.object["id"] as? String))
            #expect(job["status"] as? String == "SUCCESS")
            #expect(job["error_message"] is NSNull)
            let link = try #require(job["data"] as? String)
            #expect(URLComponents(string: link)!.path.hasSuffix("Q1_report.json"))
            let file = try await download(h, link)
            let records = try #require(try JSONSerialization.jsonObject(with: Data(file.bytes)) as? [[String: Any]])
            #expect(records.compactMap { $0["id"] as? String } == ["a", "b", "c"])

            let csvJob = try await h.send(
                .post, "/api/databases/records/jobs/",
                json:
                    #"{"name": "csv", "databases": ["\#(first)"], "media_type": "text/csv", "filters": {"start_date": "2024-01-15T00:00:00Z"}}"#,
                accept: Self.v1)
            let csv = try await waitForJob(h, try #require(csvJob.object["id"] as? String))
            let csvFile = try await download(h, try #require(csv["data"] as? String))
            #expect(csvFile.text == "id,created_at,name,ok\r\nb,2024-02-01T00:00:00Z,Bob & <Co>,true\r\n")
        }
    }

    @Test func xlsxIsARealWorkbook() async throws {
        try await withHarness { h in
            let (first, second) = try await seedTwoDatabases(h)
            let created = try await h.send(
                .post, "/api/databases/records/jobs/",
                json: #"{"name": "book", "databases": ["\#(first)", "\#(second)"], "media_type": "application/xlsx"}"#,
                accept: nil)
            #expect(created.status == 201)
            let job = try await waitForJob(h, try #require(created.object["id"] as? String))
            let link = try #require(job["data"] as? String)
            #expect(link.contains("book.xlsx"))
            let file = try await download(h, link)
            let archive = try Archive(data: Data(file.bytes), accessMode: .read)
            let names = Set(archive.map(\.path))
            #expect(
                names.isSuperset(of: [
                    "[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "_rels/.rels",
                ]))
            var sheet = Data()
            _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { sheet.append($0) }
            let xml = String(decoding: sheet, as: UTF8.self)
            #expect(xml.contains("<t xml:space=\"preserve\">Bob &amp; &lt;Co&gt;</t>"))
            #expect(xml.contains("<c r=\"D2\"><v>30</v></c>"))
            #expect(xml.contains("<row r=\"4\">"))
            #expect(xml.contains("Paris"))
        }
    }

    @Test func exportRejections() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let body = #"{"name": "x", "databases": ["\#(db)"]}"#
            let v2 = try await h.send(.post, "/api/databases/records/jobs/", json: body)
            #expect(v2.status == 406)
            let missing = try await h.send(
                .post, "/api/databases/records/jobs/", json: #"{"name": "x", "databases": []}"#, accept: Self.v1)
            #expect(missing.status == 400)
            let unknown = try await h.send(
                .post, "/api/databases/records/jobs/",
                json: #"{"name": "x", "databases": ["\#(UUID().uuidString.lowercased())"]}"#, accept: Self.v1)
            #expect(unknown.status == 400)
            let badType = try await h.send(
                .post, "/api/databases/records/jobs/",
                json: #"{"name": "x", "databases": ["\#(db)"], "media_type": "text/xml"}"#,
                accept: Self.v1)
            #expect(badType.status == 400)
            let get = try await h.get("/api/databases/records/jobs/", accept: Self.v1)
            #expect(get.status == 405)
            let noJob = try await h.get(
                "/api/databases/records/jobs/\(UUID().uuidString.lowercased())/", accept: Self.v1)
            #expect(noJob.status == 404)
        }
    }

    @Test func archivingMovesTheOldestDatesWithTheirLastState() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase("kv", type: "Key-Value")
            var records: [String] = []
            for day in 1...4 {
                for index in 0..<3 {
                    records.append(
                        #"{"id": "d\#(day)-\#(index)", "data": {"v": 1}, "created_at": "2023-01-0\#(day)T08:00:00Z"}"#)
                }
            }
            _ = try await h.admin(
                "records", #"{"database": "\#(db)", "records": [\#(records.joined(separator: ","))]}"#)
            // Later the same day: the archive must hold this last state.
            _ = try await h.admin(
                "records",
                #"{"database": "\#(db)", "records": [{"id": "d1-0", "data": {"v": 2}, "created_at": "2023-01-01T08:00:00Z", "updated_at": "2023-01-01T20:00:00Z"}]}"#
            )
            // Created on day 1, last updated on day 3: archived with day 3.
            _ = try await h.admin(
                "records",
                #"{"database": "\#(db)", "records": [{"id": "d1-1", "data": {"v": 3}, "created_at": "2023-01-01T08:00:00Z", "updated_at": "2023-01-03T09:00:00Z"}]}"#
            )

            let run = try await h.admin("archive", #"{"database": "\#(db)", "max_records": 7}"#)
            #expect(run.status == 200)
            #expect(run.object["archived_dates"] as? [String] == ["2023-01-01", "2023-01-02"])
            #expect(run.object["archived_records"] as? Int == 5)
            let live = try await h.get("/api/databases/\(db)/records/?page_size=100")
            #expect(
                Set(live.array.compactMap { $0["id"] as? String }) == [
                    "d1-1", "d3-0", "d3-1", "d3-2", "d4-0", "d4-1", "d4-2",
                ])
            #expect(try await h.get("/api/databases/\(db)/").object["num_records"] as? Int == 7)

            let org = h.server.organizationID
            let path = "/api/organizations/\(org)/databases/\(db)/record-archives/"
            let newest = try await h.get(path)
            #expect(newest.status == 200)
            #expect(newest.array.compactMap { $0["date"] as? String } == ["2023-01-02", "2023-01-01"])
            #expect(newest["X-Total-Count"] == "2")
            let oldest = try await h.get(path + "?ordering=date")
            #expect(oldest.array.compactMap { $0["date"] as? String } == ["2023-01-01", "2023-01-02"])
            let item = try #require(oldest.array.first)
            #expect(item.keys.sorted() == ["created_at", "database", "date", "file", "id", "updated_at"])
            #expect((item["database"] as? [String: Any])?["name"] as? String == "kv")
            let file = try #require(item["file"] as? String)
            #expect(URLComponents(string: file)!.path.hasSuffix("/2023-01-01.jsonl"))
            let lines = try await download(h, file).text.split(separator: "\n")
            let archived = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(archived.compactMap { $0["id"] as? String }.sorted() == ["d1-0", "d1-2"])
            let last = archived.first { $0["id"] as? String == "d1-0" }
            #expect((last?["data"] as? [String: Any])?["v"] as? Int == 2)

            let before = try await h.admin("archive", #"{"database": "\#(db)", "before_date": "2023-01-04"}"#)
            #expect(before.object["archived_dates"] as? [String] == ["2023-01-03"])
            #expect(try await h.get(path + "?page_size=2").links["next"] != nil)

            #expect(try await h.get(path, accept: "application/json; version=1.0").status == 406)
            #expect(try await h.get(path, accept: nil).status == 406)
            #expect(
                try await h.get("/api/organizations/\(UUID().uuidString.lowercased())/databases/\(db)/record-archives/")
                    .status == 404)
            // The emulated storage refuses an expired link; moto checks no expiry (S3 itself does).
            if h.s3 == nil {
                _ = try await h.admin("clock", #"{"advance": 3601}"#)
                #expect(try await download(h, file).status == 403)
            }
        }
    }

    @Test func theRetentionLimitArchivesOldestDatesOnDemand() async throws {
        try await withHarness(configure: { $0.limits.maxLiveRecords = 4 }) { h in
            let db = try await h.createDatabase("kv", type: "Key-Value")
            let records = (1...6).map { #"{"id": "r\#($0)", "data": {}, "created_at": "2023-02-0\#($0)T00:00:00Z"}"# }
            _ = try await h.admin(
                "records", #"{"database": "\#(db)", "records": [\#(records.joined(separator: ","))]}"#)
            let run = try await h.admin("archive", #"{"database": "\#(db)"}"#)
            #expect(run.object["archived_dates"] as? [String] == ["2023-02-01", "2023-02-02"])
            #expect(try await h.get("/api/databases/\(db)/").object["num_records"] as? Int == 4)
            let again = try await h.admin("archive", #"{"database": "\#(db)"}"#)
            #expect(again.object["archived_records"] as? Int == 0)
            #expect(
                try await h.admin("archive", #"{"database": "\#(db)", "max_records": 1, "before_date": "2023-01-01"}"#)
                    .status == 400)
        }
    }
}
