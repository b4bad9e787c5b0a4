import Foundation
import Hummingbird
import Logging
import PixieBrix
import ServiceLifecycle
import Testing
import TestSupport
import Transfer

@Suite("bad input: clear errors and DESIGN.md's exit codes")
struct BadInputTests {
    @Test("a database the token cannot read exits 3 for records, export and archives")
    func forbiddenDatabase() async throws {
        try await withFixture { fixture in
            let restricted = try await Admin(fixture: fixture).restrictedToken()
            let output = fixture.scratch.path("out.json")
            #expect(try await assets(["records", "--database", fixture.database, "-o", output], fixture: fixture,
                                     token: restricted).status == 3)
            #expect(!FileManager.default.fileExists(atPath: output) && !FileManager.default.fileExists(atPath: output + ".part"))
            #expect(try await assets(["export", "--name", "x", "--database", fixture.database, "-o", output],
                                     fixture: fixture, token: restricted).status == 3)
            #expect(try await assets(["archives", "pull", fixture.scratch.path("a"), "--organization",
                                      fixture.server.organizationID, "--database", fixture.database],
                                     fixture: fixture, token: restricted).status == 3)
            // The same token reads a database of its own.
            let error = await #expect(throws: PixieBrixError.self) {
                try await fixture.client.recordPages(database: UUID().uuidString.lowercased()) { _ in }
            }
            #expect(error?.kind == .notFound)
        }
    }

    @Test("dates that are not dates, --where without =, bad ids: exit 2 naming the option")
    func usageErrors() async throws {
        try await withFixture { fixture in
            let db = fixture.database
            let cases: [([String], String)] = [
                (["records", "--database", db, "--start-date", "2024-02-30"], "--start-date"),
                (["records", "--database", db, "--end-date", "yesterday"], "--end-date"),
                (["records", "--database", db, "--start-date", "2024-1-5"], "--start-date"),
                (["records", "--database", db, "--where", "user email"], "--where"),
                (["records", "--database", db, "--where", "=value"], "--where"),
                (["records", "--database", "not-a-uuid"], "--database"),
                (["records", "--database", db, "--format", "xml"], "--format"),
                (["export", "--name", "x", "--database", db, "--start-date", "soon"], "--start-date"),
                (["export", "--name", "x"], "--database"),
                (["archives", "pull", "dir", "--organization", fixture.server.organizationID, "--database", db,
                  "--since", "2024-13-01"], "--since"),
            ]
            for (arguments, option) in cases {
                let outcome = try await assets(arguments, fixture: fixture)
                #expect(outcome.status == 2, "\(arguments)")
                #expect(outcome.message.contains(option), "\(arguments): \(outcome.message)")
            }
            // An unknown database is a usage error too (404), a timestamp is fine for export dates.
            #expect(try await assets(["records", "--database", UUID().uuidString.lowercased(), "-o",
                                      fixture.scratch.path("x.json")], fixture: fixture).status == 2)
        }
    }

    @Test("a server answering 406 to the version asked for: a clear error, exit 2")
    func notAcceptable() async throws {
        try await withFakeServer(status: 406, body: #"{"detail": "Invalid version in \"Accept\" header."}"#) { server in
            let url = server.url
            try await withTransferEngine { engine in
                let client = try PixieBrixClient(baseURL: url, token: APIToken("t"), engine: engine)
                let error = await #expect(throws: PixieBrixError.self) {
                    try await client.recordPages(database: UUID().uuidString.lowercased()) { _ in }
                }
                #expect(error?.kind == .unsupportedVersion)
                #expect(error?.description.contains("Invalid version") == true)
            }
            try await withFixture { fixture in
                for arguments in [["records", "--database", fixture.database, "-o", fixture.scratch.path("r.json")],
                                  ["export", "--name", "x", "--database", fixture.database]] {
                    let outcome = try await assets(arguments, fixture: fixture, url: url)
                    #expect(outcome.status == 2, "\(arguments)")
                }
            }
        }
    }
}
