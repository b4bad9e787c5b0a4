import Foundation
import Transfer

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
    /// uploaded), which API.md accepts.
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
        var fields: [MultipartForm.Field] = []
        for member in members {
            guard let value = member.value.stringValue else {
                throw PixieBrixError(kind: .malformedResponse, message: "\(what): upload field \(member.key) is not a string")
            }
            fields.append(MultipartForm.Field(name: member.key, value: value))
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

    /// Sends a file to its presigned POST and returns storage's `ETag` (the hex MD5, unquoted).
    ///
    /// No `Authorization` goes to storage. The POST is idempotent (same key), so it is retried.
    public func upload(_ post: PresignedPost, file path: String, filename: String, bandwidthLimit: Int? = nil,
                       progress: (@Sendable (TransferProgress) -> Void)? = nil) async throws -> String {
        let what = "uploading \(filename)"
        let form = MultipartForm(fields: post.fields,
                                 file: MultipartForm.FilePart(filename: (filename as NSString).lastPathComponent, path: path))
        let request = HTTPRequest(method: .post, url: post.url, body: .multipart(form), retry: .default,
                                  bandwidthLimit: bandwidthLimit, progress: progress)
        let response = try await storage(request, doing: what)
        guard response.status == 204 || response.status == 201 || response.status == 200 else {
            throw PixieBrixError.from(response, doing: what)
        }
        guard let etag = response.headers["ETag"] else {
            throw PixieBrixError(kind: .malformedResponse, message: "\(what): storage sent no ETag", status: response.status)
        }
        return Self.unquotedETag(etag)
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

    /// Downloads a storage URL into `path`, resuming from the bytes already there.
    ///
    /// - Returns: the response: `200` (started over), `206` (appended) or `416` (nothing left to fetch).
    /// - Parameter expectedSize: the object's size when known beforehand: a longer body is cut off with an error.
    /// - Parameter observer: sees the bytes as they are written (a hasher), told where each attempt starts.
    public func download(from url: URL, to path: String, resume: Bool = true, expectedSize: Int64? = nil,
                         observer: (any ResponseBodyObserver)? = nil,
                         progress: (@Sendable (TransferProgress) -> Void)? = nil) async throws -> HTTPResponse {
        var request = HTTPRequest(method: .get, url: url, destination: .file(path: path, resume: resume), retry: .default,
                                  progress: progress)
        request.expectedSize = expectedSize
        request.bodyObserver = observer
        let what = "downloading \((url.path as NSString).lastPathComponent)"
        let response = try await storage(request, doing: what)
        guard response.isSuccess || response.status == 416 else { throw PixieBrixError.from(response, doing: what) }
        return response
    }

    /// Downloads a storage URL into a file already open for writing (see ``ResponseDestination/openFile(descriptor:name:resume:)``),
    /// resuming from the bytes already in it; the file is never reopened by name.
    ///
    /// - Returns: the response: `200` (started over), `206` (appended) or `416` (nothing left to fetch).
    /// - Parameter observer: sees the bytes as they are written (a hasher), told where each attempt starts.
    public func download(from url: URL, into descriptor: Int32, name: String, resume: Bool = true,
                         observer: (any ResponseBodyObserver)? = nil,
                         progress: (@Sendable (TransferProgress) -> Void)? = nil) async throws -> HTTPResponse {
        var request = HTTPRequest(method: .get, url: url,
                                  destination: .openFile(descriptor: descriptor, name: name, resume: resume),
                                  retry: .default, progress: progress)
        request.bodyObserver = observer
        let what = "downloading \((url.path as NSString).lastPathComponent)"
        let response = try await storage(request, doing: what)
        guard response.isSuccess || response.status == 416 else { throw PixieBrixError.from(response, doing: what) }
        return response
    }

    /// The length and `ETag` of a stored object, read with `Range: bytes=0-0` (storage signs URLs for `GET` only).
    public func remoteObjectInfo(_ url: URL) async throws -> (length: Int64, etag: String?) {
        let what = "reading the length of \((url.path as NSString).lastPathComponent)"
        let request = HTTPRequest(method: .get, url: url, headers: ["Range": "bytes=0-0"], destination: .memory(limit: 64 << 10))
        let response = try await storage(request, doing: what)
        let etag = response.headers["ETag"].map(Self.unquotedETag)
        if response.status == 206, let range = response.headers["Content-Range"],
           let total = range.split(separator: "/").last.flatMap({ Int64($0) }) {
            return (total, etag)
        }
        if response.status == 200 { return (Int64(response.headers["Content-Length"] ?? "") ?? Int64(response.body.count), etag) }
        if response.status == 416 { return (0, etag) }
        throw PixieBrixError.from(response, doing: what)
    }

    /// Sends a request to storage: never with the token, errors mapped from storage's XML.
    func storage(_ request: HTTPRequest, doing what: String) async throws -> HTTPResponse {
        var request = request
        request.headers.remove(name: "Authorization")
        request.followRedirects = false
        do {
            return try await engine.perform(request)
        } catch let error as TransferError {
            throw PixieBrixError.from(error, doing: what)
        }
    }

    static func unquotedETag(_ value: String) -> String {
        var etag = value.trimmingCharacters(in: .whitespaces)
        if etag.hasPrefix("W/") { etag.removeFirst(2) }
        return etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
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
