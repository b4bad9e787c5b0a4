import Foundation
import Transfer

extension PixieBrixClient {
    /// The databases the token can access, or those of one organization.
    public func databases(organization: String? = nil) async throws -> [Database] {
        if let organization {
            return try await listAll(Database.self, path: "/api/organizations/\(organization)/databases/",
                                     doing: "listing the databases of organization \(organization)")
        }
        return try await listAll(Database.self, path: "/api/databases/", doing: "listing databases")
    }

    public func database(_ id: String) async throws -> Database {
        let what = "reading database \(id)"
        let response = try await send(.get, url("/api/databases/\(id)/"), doing: what)
        return try decode(Database.self, from: response, doing: what)
    }

    /// Creates a database; `type` is `Asset` or `Key-Value`.
    public func createDatabase(name: String, type: String = "Asset") async throws -> Database {
        struct Body: Encodable { var name: String; var type: String }
        let what = "creating database \(name)"
        let response = try await send(.post, url("/api/databases/"), json: Self.jsonBody(Body(name: name, type: type)),
                                      retry: RetryPolicy.none, doing: what)
        return try decode(Database.self, from: response, doing: what)
    }
}
