import Foundation

/// `value; name=token; other="quoted; string"` as in Content-Type and Content-Disposition.
struct HeaderParameters {
    var value: String
    var parameters: [String: String]

    subscript(name: String) -> String? { parameters[name.lowercased()] }

    static func parse(_ text: String) -> HeaderParameters {
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if inQuotes && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                current.append(character)
            } else if character == ";" && !inQuotes {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        var parameters: [String: String] = [:]
        for item in items.dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            parameters[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] = value
        }
        return HeaderParameters(value: items[0].trimmingCharacters(in: .whitespaces), parameters: parameters)
    }
}
