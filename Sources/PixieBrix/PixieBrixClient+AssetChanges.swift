import Foundation

extension PixieBrixClient {
    /// The assets of a database, most recently updated first (`ordering=-updated_at`), page by page, until
    /// `onPage` answers false or the listing ends.
    ///
    /// Returns whether the server honoured the order: when any page (or the boundary between two pages) is
    /// not newest first, the server ignored the parameter, every page was read, and the caller must treat the
    /// listing as unordered.
    @discardableResult
    public func assetsNewestFirst(database: String, pageSize: Int = 100,
                                  onPage: ([Asset]) async throws -> Bool) async throws -> Bool {
        let what = "listing the assets of database \(database), newest first"
        let first = url("/api/databases/\(database)/assets/",
                        query: [("ordering", "-updated_at"), ("page_size", String(max(1, min(pageSize, 1000))))])
        var ordered = true
        var previous: Date?
        do {
            try await fetchPages(from: first, doing: what) { response in
                let page = try decode([Asset].self, from: response, doing: what)
                for asset in page {
                    if let previous, asset.updatedAt > previous { ordered = false }
                    previous = asset.updatedAt
                }
                let wantsMore = try await onPage(page)
                if !wantsMore && ordered { throw StopPaging() }
            }
        } catch is StopPaging {
            return true
        }
        return ordered
    }

    private struct StopPaging: Error {}
}
