import Foundation

/// The asset listing's `ordering` query parameter, as Django REST Framework's `OrderingFilter` reads it:
/// comma-separated fields, `-` for descending; fields it does not know are ignored, and with none left the
/// listing keeps its default order (creation). Ties keep creation order, in the direction of the last field.
///
/// (decided here) The local server orders by `created_at` and `updated_at`; `assets pull --follow` asks for
/// `-updated_at` and checks the order it gets, so a server that ignores the parameter costs it full listings,
/// never a missed asset.
struct AssetOrdering: Sendable, Equatable {
    static let fields: Set<String> = ["created_at", "updated_at"]

    var terms: [(field: String, descending: Bool)]

    init(_ parameter: String?) {
        terms = (parameter ?? "").split(separator: ",").compactMap { raw in
            let text = raw.trimmingCharacters(in: .whitespaces)
            let descending = text.hasPrefix("-")
            let field = descending ? String(text.dropFirst()) : text
            return Self.fields.contains(field) ? (field, descending) : nil
        }
    }

    /// The SQL `ORDER BY` terms (fields from the fixed set above only), ties broken by `insertionOrder` (the
    /// dialect's column of insertion order).
    func sql(insertionOrder: String) -> String {
        let tieBreak = terms.last?.descending == true ? "\(insertionOrder) DESC" : insertionOrder
        return (terms.map { "\($0.field)\($0.descending ? " DESC" : "")" } + [tieBreak]).joined(separator: ", ")
    }

    static func == (lhs: AssetOrdering, rhs: AssetOrdering) -> Bool {
        lhs.sql(insertionOrder: "") == rhs.sql(insertionOrder: "")
    }
}
