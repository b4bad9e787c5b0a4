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
    func database(_ id: String) async throws -> DatabaseRow {
        guard let row = try await store.database(id) else { throw APIError.notFound }
        guard principal.canAccess(owner: row.owner) else { throw APIError.forbidden }
        return row
    }

    /// The JSON object in the body, checked as DRF's parser and a strict serializer check it.
    func bodyObject(allowed: Set<String>, limit: Int? = nil) async throws -> [JSONValue.Member] {
        try await RequestBodyReader.jsonObject(
            request, allowed: allowed, limit: limit ?? state.limits.maxJSONBody, pace: BodyPace(state.limits))
    }
}

extension [JSONValue.Member] {
    subscript(key: String) -> JSONValue? { last { $0.key == key }?.value }
}
