import Foundation

/// The links of an RFC 8288 `Link` header, by relation.
struct LinkHeader {
    private(set) var links: [String: URL] = [:]

    init(_ values: [String]) {
        for value in values {
            for part in LinkHeader.splitLinks(value) {
                guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close,
                      let url = URL(string: String(part[part.index(after: open)..<close]))
                else { continue }
                for parameter in part[part.index(after: close)...].split(separator: ";") {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "rel" else { continue }
                    let rels = pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    for rel in rels.split(separator: " ") { links[rel.lowercased()] = url }
                }
            }
        }
    }

    subscript(rel: String) -> URL? { links[rel] }

    /// Splits on commas outside `<...>` and quotes.
    private static func splitLinks(_ value: String) -> [Substring] {
        var parts: [Substring] = []
        var start = value.startIndex
        var inURL = false
        var inQuotes = false
        for index in value.indices {
            switch value[index] {
            case "<" where !inQuotes: inURL = true
            case ">" where !inQuotes: inURL = false
            case "\"" where !inURL: inQuotes.toggle()
            case "," where !inURL && !inQuotes:
                parts.append(value[start..<index])
                start = value.index(after: index)
            default: break
            }
        }
        parts.append(value[start...])
        return parts
    }
}
