import Foundation
import Transfer
import WireFormat

extension PixieBrixClient {
    /// Every asset of a database, uploaded or not, page by page.
    public func assets(database: String, onPage: ([Asset]) async throws -> Void) async throws {
        try await fetchAllPages(Asset.self, path: "/api/databases/\(database)/assets/",
                                doing: "listing the assets of database \(database)", onPage: onPage)
    }

    /// Every asset of a database, uploaded or not.
    public func assets(database: String) async throws -> [Asset] {
        var all: [Asset] = []
        try await assets(database: database) { all += $0 }
        return all
    }

    /// Creates an asset and returns its presigned POST.
    ///
    /// Retried on throttling and unavailability (answers given before any save); a `500` or a broken
    /// connection is left to the caller, whose repeat may leave an orphan (an asset never marked
    /// uploaded), which docs/api-contract.md accepts.
    public func createAsset(database: String, filename: String) async throws -> AssetUpload {
        struct Body: Encodable { var filename: String }
        let what = "creating an asset for \(filename)"
        // A broken connection may come after the save: not retried here (nor by libcurl, which repeats
        // a request unanswered on a reused connection), so that the push lifecycle records the
        // possible orphan before it creates again.
        let retry = RetryPolicy(maxAttempts: 6, retryableStatuses: RetryPolicy.transientStatuses, retryTransportErrors: false)
        let response = try await send(.post, url("/api/databases/\(database)/assets/"),
                                      json: Self.jsonBody(Body(filename: filename)), retry: retry, freshConnection: true,
                                      doing: what)
        return try Self.parseAssetUpload(response, doing: what)
    }

    static func parseAssetUpload(_ response: HTTPResponse, doing what: String) throws -> AssetUpload {
        struct Created: Decodable { var asset: Asset; var upload_url: String }
        let created = try JSONDecoder.api.decodeOrThrow(Created.self, from: response, doing: what)
        guard let uploadURL = URL(string: created.upload_url), ["http", "https"].contains(uploadURL.scheme?.lowercased()),
              case .object(let members)? = (try? JSONValue(parsing: response.body))?["fields"]
        else {
            throw PixieBrixError(kind: .malformedResponse, message: "\(what): the answer lacks a usable upload_url or fields",
                                 status: response.status)
        }
        var fields: [PresignedPost.Field] = []
        for member in members {
            guard let value = member.value.stringValue else {
                throw PixieBrixError(kind: .malformedResponse, message: "\(what): upload field \(member.key) is not a string")
            }
            fields.append(PresignedPost.Field(name: member.key, value: value))
        }
        return AssetUpload(asset: created.asset, post: PresignedPost(url: uploadURL, fields: fields))
    }

    /// An asset's metadata (`?meta=true`).
    public func asset(database: String, id: String) async throws -> Asset {
        let what = "reading asset \(id)"
        let response = try await send(.get, url("/api/databases/\(database)/assets/\(id)/", query: [("meta", "true")]),
                                      doing: what)
        return try decode(Asset.self, from: response, doing: what)
    }

    /// Marks an asset uploaded (`PATCH is_uploaded: true`); idempotent.
    @discardableResult
    public func markUploaded(database: String, id: String) async throws -> Asset {
        let what = "marking asset \(id) uploaded"
        let response = try await send(.patch, url("/api/databases/\(database)/assets/\(id)/"),
                                      json: Data(#"{"is_uploaded":true}"#.utf8), retry: .default, doing: what)
        return try decode(Asset.self, from: response, doing: what)
    }

    /// The short-lived storage URL that `GET .../assets/{id}/` redirects to.
    public func downloadLocation(database: String, id: String) async throws -> URL {
        let what = "asking for the download of asset \(id)"
        let response = try await send(.get, url("/api/databases/\(database)/assets/\(id)/"), acceptedStatuses: [302],
                                      doing: what)
        guard response.status == 302, let location = response.headers["Location"],
              let target = URL(string: location, relativeTo: baseURL)?.absoluteURL,
              ["http", "https"].contains(target.scheme?.lowercased())
        else {
            throw PixieBrixError(kind: .malformedResponse, message: "\(what): expected a 302 with a Location",
                                 status: response.status)
        }
        return target
    }
}

extension JSONDecoder {
    func decodeOrThrow<T: Decodable>(_ type: T.Type, from response: HTTPResponse, doing what: String) throws -> T {
        do {
            return try decode(T.self, from: response.body)
        } catch {
            throw PixieBrixError(kind: .malformedResponse, message: "\(what): the server's answer is not the expected JSON",
                                 status: response.status, detail: "\(error)")
        }
    }
}
