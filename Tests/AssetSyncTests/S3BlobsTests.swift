import AssetServer
import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

/// `assets serve --blobs s3://assets-test/<prefix>` against moto: the client uploads to and downloads from the
/// bucket directly; the server only signs, checks and writes (exports, archives).
@Suite("assets serve on S3 blobs (moto)", .enabled(if: TestS3.enabled, "ASSETS_SKIP_S3=1"))
struct S3BlobsTests {
    static func withS3Fixture(_ body: (Fixture, S3Location) async throws -> Void) async throws {
        let location = try await TestS3.location()
        try await withFixture(blobs: .s3(location)) { fixture in try await body(fixture, location) }
    }

    static func query(_ url: URL) -> [String: String] {
        Dictionary(
            (URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { _, last in last })
    }

    static func origin(_ url: URL) -> String { "\(url.scheme ?? "")://\(url.host ?? ""):\(url.port ?? 0)" }

    static func downloaded(_ url: URL, fixture: Fixture, name: String) async throws -> Data {
        let path = fixture.scratch.path(name)
        _ = try await fixture.client.download(from: url, to: path, resume: false)
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    @Test("push to a server on s3://bucket/prefix and pull back: bytes equal; each asset is one object under the prefix")
    func pushThenPull() async throws {
        try await Self.withS3Fixture { fixture, location in
            let source = try fixture.scratch.folder("source")
            let expected = try makeTrickyTree(at: source, smallFiles: 40)
            let pushed = try await fixture.pusher(source, store: try fixture.store()).push()
            #expect(pushed.failed == 0)
            #expect(pushed.done == expected.count)

            let target = try fixture.scratch.folder("target")
            let pulled = try await fixture.puller(target, store: try fixture.store("pull.sqlite")).pull()
            #expect(pulled.failed == 0)
            #expect(try treeDigest(target) == expected)

            let assets = try await fixture.client.assets(database: fixture.database)
            #expect(assets.count == expected.count)
            let keys = try await TestS3.keys(prefix: location.prefix + "/")
            #expect(Set(keys) == Set(assets.map { "\(location.prefix)/assets/\(fixture.database)/\($0.id)" }))
        }
    }

    @Test("PATCH is_uploaded is refused until the object is in the bucket, then accepted")
    func markOnlyOnceUploaded() async throws {
        try await Self.withS3Fixture { fixture, _ in
            let upload = try await fixture.client.createAsset(database: fixture.database, filename: "late.txt")
            do {
                _ = try await fixture.client.markUploaded(database: fixture.database, id: upload.asset.id)
                Issue.record("an asset without an object was marked uploaded")
            } catch let error as PixieBrixError {
                #expect(error.status == 400)
            }
            let file = fixture.scratch.path("late.txt")
            try write(Data("late bytes\n".utf8), to: file)
            _ = try await fixture.client.upload(upload.post, file: file, filename: "late.txt")
            let marked = try await fixture.client.markUploaded(database: fixture.database, id: upload.asset.id)
            #expect(marked.isUploaded)
        }
    }

    @Test("the issued POST policy and GET link expire one hour after issue; the asset download is a 302 to the bucket")
    func oneHourLinks() async throws {
        try await Self.withS3Fixture { fixture, location in
            let upload = try await fixture.client.createAsset(database: fixture.database, filename: "a.bin")
            #expect(upload.post.url.absoluteString == "\(location.endpoint)/\(location.bucket)")
            let fields = Dictionary(upload.post.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            let policyText = try #require(fields["policy"])
            let policyData = try #require(Data(base64Encoded: policyText))
            let policy = try #require(try JSONSerialization.jsonObject(with: policyData) as? [String: Any])
            let expiration = try #require(policy["expiration"] as? String)
            let issued = try #require(fields["x-amz-date"])
            let format = DateFormatter()
            format.locale = Locale(identifier: "en_US_POSIX")
            format.timeZone = TimeZone(identifier: "UTC")
            format.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            let issuedAt = try #require(format.date(from: issued))
            format.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
            let expiresAt = try #require(format.date(from: expiration))
            #expect(expiresAt.timeIntervalSince(issuedAt) == 3600)
            #expect(abs(issuedAt.timeIntervalSinceNow) < 600)
            let conditions = try #require(policy["conditions"] as? [Any])
            #expect(conditions.contains { ($0 as? [String: String]) == ["bucket": location.bucket] })
            #expect(conditions.contains { ($0 as? [String: String]) == ["key": fields["key"] ?? ""] })
            #expect(conditions.contains { ($0 as? [Any])?.first as? String == "content-length-range" })

            let bytes = pseudoRandomBytes(300_000, seed: 7)
            let file = fixture.scratch.path("a.bin")
            try write(bytes, to: file)
            _ = try await fixture.client.upload(upload.post, file: file, filename: "a.bin")
            _ = try await fixture.client.markUploaded(database: fixture.database, id: upload.asset.id)
            let link = try await fixture.client.downloadLocation(database: fixture.database, id: upload.asset.id)
            #expect(Self.origin(link) == location.endpoint)
            #expect(link.path == "/\(location.bucket)/\(location.prefix)/assets/\(fixture.database)/\(upload.asset.id)")
            let query = Self.query(link)
            #expect(query["X-Amz-Expires"] == "3600")
            #expect(query["X-Amz-SignedHeaders"] == "host")
            #expect(query["X-Amz-Credential"]?.hasPrefix("\(TestS3.accessKey)/") == true)
            #expect(try await Self.downloaded(link, fixture: fixture, name: "back.bin") == bytes)
        }
    }

    @Test("export files and archives are written to the bucket and their links point there")
    func exportAndArchive() async throws {
        try await Self.withS3Fixture { fixture, location in
            let records: [[String: Any]] = (0..<50).map { index in
                let stamp = "2023-01-0\(1 + index % 3)T08:00:00Z"
                return ["id": "r\(index)", "data": ["n": index], "created_at": stamp, "updated_at": stamp]
            }
            try await withTransferEngine { engine in
                try await admin("records", ["database": fixture.database, "records": records], server: fixture.server,
                                engine: engine)
            }
            let job = try await fixture.client.createExportJob(name: "report", databases: [fixture.database])
            let done = try await fixture.client.waitForExportJob(job.id, timeout: .seconds(120))
            let data = try #require(done.data)
            #expect(Self.origin(data) == location.endpoint)
            #expect(Self.query(data)["X-Amz-Expires"] == "3600")
            let exported = try await Self.downloaded(data, fixture: fixture, name: "report.json")
            let rows = try #require(try JSONSerialization.jsonObject(with: exported) as? [[String: Any]])
            #expect(Set(rows.compactMap { $0["id"] as? String }) == Set((0..<50).map { "r\($0)" }))
            let exportKeys = try await TestS3.keys(prefix: "\(location.prefix)/exports/")
            #expect(exportKeys == ["\(location.prefix)/exports/\(job.id)/report.json"])

            try await withTransferEngine { engine in
                try await admin("archive", ["database": fixture.database, "before_date": "2023-01-03"],
                                server: fixture.server, engine: engine)
            }
            let archives = try await fixture.client.recordArchives(
                organization: fixture.server.organizationID, database: fixture.database)
            #expect(archives.map(\.date).sorted() == ["2023-01-01", "2023-01-02"])
            for archive in archives {
                #expect(Self.origin(archive.file) == location.endpoint)
                #expect(Self.query(archive.file)["X-Amz-Expires"] == "3600")
                let lines = try await Self.downloaded(archive.file, fixture: fixture, name: archive.date + ".jsonl")
                let ids = String(decoding: lines, as: UTF8.self).split(separator: "\n").compactMap {
                    (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String
                }
                let day = archive.date == "2023-01-01" ? 0 : 1
                #expect(Set(ids) == Set((0..<50).filter { $0 % 3 == day }.map { "r\($0)" }))
            }
            let archiveKeys = try await TestS3.keys(prefix: "\(location.prefix)/archives/")
            #expect(
                Set(archiveKeys)
                    == Set(["2023-01-01", "2023-01-02"].map { "\(location.prefix)/archives/\(fixture.database)/\($0).jsonl" }))
        }
    }
}
