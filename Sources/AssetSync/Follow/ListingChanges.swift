import Foundation
import PixieBrix

/// What the polls of a continuous pull have seen of the listing: each asset's `updated_at`, and per local path
/// the newest uploaded asset. A poll reads the listing newest `updated_at` first and stops after the first
/// page whose assets are all known, so a quiet database costs one page per poll.
struct ListingChanges: Sendable {
    /// Every asset seen, uploaded or not, with the `updated_at` it had.
    private var known: [String: Date] = [:]
    /// The newest uploaded asset per local path (by `created_at`, as a pull chooses).
    private var newest: [String: Asset] = [:]

    /// The assets on `page` not seen before with this `updated_at`; records them.
    mutating func unseen(in page: [Asset]) -> [Asset] {
        var fresh: [Asset] = []
        for asset in page where known[asset.id] != asset.updatedAt {
            known[asset.id] = asset.updatedAt
            fresh.append(asset)
        }
        return fresh
    }

    /// Takes an uploaded asset as its path's newest when it is newer than the one held; says whether it was.
    mutating func takeIfNewest(_ asset: Asset, path: String) -> Bool {
        if let held = newest[path], held.createdAt > asset.createdAt || held.id == asset.id { return false }
        newest[path] = asset
        return true
    }
}
