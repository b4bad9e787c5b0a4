import Foundation
import Transfer
import WireFormat

extension PixieBrixClient {
    /// The records endpoint's cap on records per request.
    public static let maxRecordsPageSize = 10_000

    /// Streams a database's records page by page, as the server sent them (a JSON array, or CSV with a header row
    /// on every page), following `Link: rel="next"` until the last page.
    ///
    /// The next page is fetched while `onPage` handles the current one; at most two pages are held in memory.
    ///
    /// - Throws: ``PixieBrixError`` (`.forbidden` when the token may not read the database, `.unsupportedVersion`
    ///   on `406`), or what `onPage` throws.
    public func recordPages(database: String, filter: RecordFilter = RecordFilter(), as mediaType: RecordMediaType = .json,
                            pageSize: Int = PixieBrixClient.maxRecordsPageSize,
                            onPage: (RecordPage) async throws -> Void) async throws {
        let what = "listing the records of database \(database)"
        let size = min(max(pageSize, 1), Self.maxRecordsPageSize)
        let first = url("/api/databases/\(database)/records/", query: filter.queryItems + [("page_size", String(size))])
        var number = 0
        try await fetchPages(from: first, accept: mediaType.rawValue, memoryLimit: 1 << 30, doing: what) { response in
            number += 1
            let contentType = (response.headers["Content-Type"] ?? "").lowercased()
            guard contentType.hasPrefix(mediaType.rawValue) else {
                throw PixieBrixError(kind: .malformedResponse,
                                     message: "\(what): asked for \(mediaType.rawValue), the server sent \(contentType)",
                                     status: response.status)
            }
            try await onPage(RecordPage(number: number, body: response.body))
        }
    }

    /// Creates a record, or replaces the one with the same id (`merge_strategy: replace`).
    @discardableResult
    public func putRecord(database: String, id: String, data: JSONValue) async throws -> JSONValue {
        let what = "writing record \(id)"
        let body = JSONValue.object(["id": .string(id), "data": data, "merge_strategy": .string("replace")])
        let response = try await send(.post, url("/api/databases/\(database)/records/"), json: Data(body.jsonText.utf8),
                                      retry: .default, doing: what)
        do {
            return try JSONValue(parsing: response.body)
        } catch {
            throw PixieBrixError(kind: .malformedResponse, message: "\(what): the server's answer is not JSON",
                                 status: response.status, detail: "\(error)")
        }
    }
}
