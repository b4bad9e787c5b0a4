import Foundation

/// A request's query string, decoded as a form (`+` is a space), with the raw text kept for links.
struct Query: Sendable {
    var items: [(name: String, value: String)]
    var raw: String

    init(_ raw: String?) {
        self.raw = raw ?? ""
        items = self.raw.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Query.decode(parts[0]) else { return nil }
            let value = parts.count > 1 ? Query.decode(parts[1]) ?? "" : ""
            return (name, value)
        }
    }

    /// The last value given for `name`, as Django's `QueryDict.get` answers.
    subscript(name: String) -> String? { items.last { $0.name == name }?.value }

    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The raw query with `name` set to `value` (other parameters keep their own encoding).
    func replacing(_ name: String, with value: String) -> String {
        var parts = raw.split(separator: "&").filter { pair in
            let key = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            return Query.decode(key) != name
        }.map(String.init)
        parts.append("\(name)=\(value)")
        return parts.joined(separator: "&")
    }
}
