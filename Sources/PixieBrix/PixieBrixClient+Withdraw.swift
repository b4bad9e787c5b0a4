import Foundation
import Transfer

extension PixieBrixClient {
    /// Withdraws an asset (`PATCH is_uploaded: false`): it stops being downloadable and leaves the
    /// newest-uploaded listing. The API has no delete; ``restoreAsset(database:id:)`` undoes this. Idempotent.
    @discardableResult
    public func withdrawAsset(database: String, id: String) async throws -> Asset {
        let what = "withdrawing asset \(id)"
        let response = try await send(.patch, url("/api/databases/\(database)/assets/\(id)/"),
                                      json: Data(#"{"is_uploaded":false}"#.utf8), retry: .default, doing: what)
        return try decode(Asset.self, from: response, doing: what)
    }

    /// Marks a withdrawn asset uploaded again (`PATCH is_uploaded: true`; the server refuses it with a `400`
    /// when storage holds no object for it). Idempotent.
    @discardableResult
    public func restoreAsset(database: String, id: String) async throws -> Asset {
        let what = "restoring asset \(id)"
        let response = try await send(.patch, url("/api/databases/\(database)/assets/\(id)/"),
                                      json: Data(#"{"is_uploaded":true}"#.utf8), retry: .default, doing: what)
        return try decode(Asset.self, from: response, doing: what)
    }
}
