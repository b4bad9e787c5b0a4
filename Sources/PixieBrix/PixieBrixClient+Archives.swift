import Foundation
import Transfer

extension PixieBrixClient {
    /// A database's record archives, oldest date first (`ordering=date`), page by page (version 2.0 only).
    public func recordArchives(organization: String, database: String,
                               onPage: ([RecordArchive]) async throws -> Void) async throws {
        try await fetchAllPages(RecordArchive.self,
                                path: "/api/organizations/\(organization)/databases/\(database)/record-archives/",
                                query: [("ordering", "date")],
                                doing: "listing the record archives of database \(database)", onPage: onPage)
    }

    /// Every record archive of a database, oldest date first.
    public func recordArchives(organization: String, database: String) async throws -> [RecordArchive] {
        var all: [RecordArchive] = []
        try await recordArchives(organization: organization, database: database) { all += $0 }
        return all
    }
}
