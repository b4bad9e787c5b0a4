import Foundation
import Hummingbird
import WireFormat

/// One authenticated, negotiated API request on its way to a handler.
struct Call: Sendable {
    let state: ServerState
    let request: Request
    let route: Route
    let principal: Principal
    let negotiation: Negotiation
    let query: Query
    /// `http://host:port` of the server (configured or listening, not the request's `Host`), for absolute links.
    let baseURL: String

    var store: Store { state.store }
    var now: Micros { state.clock.now }

    func jsonResponse(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        let mediaType = negotiation.format == .json ? negotiation.mediaType : "application/json"
        headers[.contentType] = "\(mediaType); version=\(negotiation.version)"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.jsonText)))
    }

    func textResponse(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = negotiation.contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The database in the path: `404` when unknown, `403` when the caller's token may not see it.
    func database(_ id: String) throws -> DatabaseRow {
        guard let row = try store.database(id) else { throw APIError.notFound }
        guard principal.canAccess(owner: row.owner) else { throw APIError.forbidden }
        return row
    }

    /// The JSON object in the body, checked as DRF's parser and a strict serializer check it.
    func bodyObject(allowed: Set<String>, limit: Int? = nil) async throws -> [JSONValue.Member] {
        try await RequestBodyReader.jsonObject(
            request, allowed: allowed, limit: limit ?? state.limits.maxJSONBody, pace: BodyPace(state.limits))
    }
}

enum RequestBodyReader {
    static func jsonObject(_ request: Request, allowed: Set<String>, limit: Int, pace: BodyPace) async throws
        -> [JSONValue.Member]
    {
        var bytes: [UInt8] = []
        var pace = pace
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw APIError.detail(.contentTooLarge, "Request body is too large.")
            }
            guard pace.received(buffer.readableBytes) else {
                throw APIError.detail(.requestTimeout, "The request body arrived too slowly.")
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        if bytes.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return [] }
        let contentType = request.headers[.contentType] ?? ""
        let mediaType = contentType.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard let mediaType, Negotiation.jsonTypes.contains(mediaType) else {
            throw APIError.detail(.unsupportedMediaType, "Unsupported media type \"\(contentType)\" in request.")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw APIError.detail(.badRequest, "JSON parse error - \(error)")
        }
        guard let members = value.members else {
            throw APIError(
                status: .badRequest,
                body: .object([
                    "non_field_errors": .array([
                        .string("Invalid data. Expected a dictionary, but got \(value.typeName).")
                    ])
                ]))
        }
        let unknown = members.map(\.key).filter { !allowed.contains($0) }
        if !unknown.isEmpty {
            throw APIError(
                status: .badRequest,
                body: .object(unknown.map { .init(key: $0, value: .array([.string("Unknown field.")])) }))
        }
        return members
    }
}

extension [JSONValue.Member] {
    subscript(key: String) -> JSONValue? { last { $0.key == key }?.value }
}
