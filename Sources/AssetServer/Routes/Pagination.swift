import Hummingbird
import WireFormat

/// Which slice of a list one version-2.0 page covers.
struct PageWindow: Sendable {
    var page: Int
    var size: Int

    var offset: Int { (page - 1) * size }
    var sqlLimit: String { "LIMIT \(size) OFFSET \(offset)" }

    static let defaultSize = 100

    /// `page` must be a positive integer (else `404 Invalid page.`, as DRF answers); a missing, unreadable or
    /// non-positive `page_size` means the default, a larger one is clamped to `maxSize`.
    static func from(_ query: Query, maxSize: Int) throws(APIError) -> PageWindow {
        var page = 1
        if let text = query["page"] {
            guard let value = Int(text), value >= 1 else { throw APIError.invalidPage }
            page = value
        }
        var size = defaultSize
        if let text = query["page_size"], let value = Int(text), value > 0 { size = min(value, maxSize) }
        // A page whose first item lies beyond any list (or beyond Int) is past the end, as DRF answers;
        // the bound leaves room for `offset + count` and `page + 1` later.
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: size)
        guard !overflow, offset <= Int.max / 4 else { throw APIError.invalidPage }
        return PageWindow(page: page, size: size)
    }
}

extension Call {
    /// A version-2.0 page: a plain JSON array (or CSV) with `Link` (absolute URLs) and, when `total` is known,
    /// `X-Total-Count` and a `last` link.
    /// `isEmpty` says whether the page holds no item when `items` is not what is sent (CSV).
    func pageResponse(items: [JSONValue], window: PageWindow, total: Int?, hasNext: Bool, isEmpty: Bool? = nil,
                      csv: (() -> String)? = nil) throws(APIError) -> Response
    {
        if let total {
            let pages = max(1, (total + window.size - 1) / window.size)
            if window.page > pages { throw APIError.invalidPage }
        } else if window.page > 1 && (isEmpty ?? items.isEmpty) {
            throw APIError.invalidPage
        }
        func link(_ page: Int, _ rel: String) -> String {
            "<\(baseURL)\(request.uri.path)?\(query.replacing("page", with: String(page)))>; rel=\"\(rel)\""
        }
        var links: [String] = []
        if hasNext { links.append(link(window.page + 1, "next")) }
        if window.page > 1 { links.append(link(window.page - 1, "prev")) }
        links.append(link(1, "first"))
        if let total { links.append(link(max(1, (total + window.size - 1) / window.size), "last")) }
        var headers: HTTPFields = [:]
        headers[.pbLink] = links.joined(separator: ", ")
        if let total { headers[.pbTotalCount] = String(total) }
        if let csv { return textResponse(.ok, csv(), headers: headers) }
        return jsonResponse(.ok, .array(items), headers: headers)
    }
}
