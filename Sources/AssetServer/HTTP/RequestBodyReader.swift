import Foundation
import Hummingbird
import WireFormat

/// Reads a JSON object body as DRF's parser and a strict serializer check it: size, pace, media type, shape and
/// unknown fields.
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
