import Foundation

/// The media type and version an API answer is rendered in, read from `Accept` as DRF's
/// `AcceptHeaderVersioning` reads it.
struct Negotiation: Sendable {
    enum Format: Sendable { case json, csv }

    var mediaType: String
    var version: String
    var format: Format { mediaType == "text/csv" ? .csv : .json }
    var paginates: Bool { version == "2.0" }
    var contentType: String { "\(mediaType); version=\(version)" }

    static let knownVersions: Set<String> = ["1.0", "1.1", "2.0"]
    static let jsonTypes: Set<String> = ["application/json", "application/vnd.pixiebrix.api+json"]

    /// - Parameter allowsCSV: whether `text/csv` can be rendered (the records list only).
    static func negotiate(accept: String?, allowsCSV: Bool) throws(APIError) -> Negotiation {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else {
            return Negotiation(mediaType: "application/json", version: "1.0")
        }
        var ranges: [(type: String, version: String?, quality: Double)] = []
        for item in accept.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let type = parts.first?.lowercased(), !type.isEmpty else { continue }
            var version: String?
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map {
                    $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
                guard pair.count == 2 else { continue }
                switch pair[0].lowercased() {
                case "version": version = pair[1]
                case "q": quality = Double(pair[1]) ?? 1
                default: break
                }
            }
            if quality > 0 { ranges.append((type, version, quality)) }
        }
        // Stable sort: the first of equally preferred ranges wins, as in DRF.
        let ordered = ranges.enumerated().sorted {
            $0.element.quality != $1.element.quality ? $0.element.quality > $1.element.quality : $0.offset < $1.offset
        }.map(\.element)
        for range in ordered {
            let mediaType: String
            switch range.type {
            case let type where jsonTypes.contains(type): mediaType = type
            case "text/csv" where allowsCSV: mediaType = "text/csv"
            case "*/*", "application/*": mediaType = "application/json"
            default: continue
            }
            let version = range.version ?? "1.0"
            guard knownVersions.contains(version) else { throw APIError.invalidVersion }
            return Negotiation(mediaType: mediaType, version: version)
        }
        throw APIError.notAcceptable
    }
}
