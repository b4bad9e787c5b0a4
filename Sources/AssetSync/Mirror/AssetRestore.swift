import Foundation
import PixieBrix

/// `assets restore`: marks a withdrawn asset uploaded again, and checks that storage still holds the bytes
/// that were pushed.
///
/// The API serves no download of a withdrawn asset, so its object cannot be read before it is restored: the
/// server refuses the `PATCH is_uploaded: true` when storage holds no object, and once restored the object's
/// length and `ETag` (a `Range: bytes=0-0` `GET`) are compared with what the manifest recorded when the asset was
/// withdrawn. On a mismatch the asset is withdrawn again and the restore fails.
public struct AssetRestore: Sendable {
    public let database: String
    public let client: PixieBrixClient
    /// The state file of the folder that withdrew it, if known: where the expected size and MD5 come from.
    public let store: StateStore?

    public init(database: String, client: PixieBrixClient, store: StateStore?) {
        self.database = database
        self.client = client
        self.store = store
    }

    public struct Outcome: Sendable, Equatable {
        public var asset: Asset
        public var size: Int64
        public var etag: String?
        /// What was compared: the withdrawal's record, or nothing known beforehand (`--asset` without a record).
        public var checkedAgainstRecord: Bool
        /// The asset was uploaded already; nothing was changed.
        public var wasUploaded: Bool
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Restores `assetID` if given, otherwise the last withdrawal of `filename` recorded in the state file.
    public func restore(filename: String, assetID: String?) async throws -> Outcome {
        let record: Withdrawal?
        let id: String
        if let assetID {
            id = assetID
            record = try store?.withdrawals(path: filename).first { $0.assetId == assetID }
        } else {
            guard let last = try store?.withdrawals(path: filename).first else {
                throw Failure(description: "no withdrawal of \(filename) is recorded for this folder and database "
                    + "(give the folder that ran push --delete, or --asset ID)")
            }
            record = last
            id = last.assetId
        }
        let asset = try await client.asset(database: database, id: id)
        guard asset.filename == filename else {
            throw Failure(description: "asset \(id) is named \(asset.filename), not \(filename)")
        }
        var newest: Asset?
        try await client.assets(database: database) { page in
            for other in page where other.isUploaded && other.filename == filename {
                if let known = newest, known.createdAt >= other.createdAt { continue }
                newest = other
            }
        }
        if asset.isUploaded {
            let info = try await objectInfo(id)
            return Outcome(asset: asset, size: info.length, etag: info.etag, checkedAgainstRecord: false, wasUploaded: true)
        }
        if let newest, newest.createdAt > asset.createdAt {
            throw Failure(description: "a newer asset of \(filename) is uploaded (\(newest.id)); restoring \(id) would "
                + "not make it the one that counts")
        }
        let restored: Asset
        do {
            restored = try await client.restoreAsset(database: database, id: id)
        } catch let error as PixieBrixError where error.kind == .invalidRequest {
            throw Failure(description: "storage no longer holds the bytes of asset \(id) (\(error.message))")
        }
        let info = try await objectInfo(id)
        if let record {
            let expected = record.etag ?? record.md5
            if info.length != record.size || (info.etag != nil && info.etag != expected) {
                try await client.withdrawAsset(database: database, id: id)
                throw Failure(description: "storage's object of asset \(id) is not what was pushed (\(info.length) "
                    + "bytes, ETag \(info.etag ?? "none"); recorded \(record.size) bytes, MD5 \(expected)); withdrawn again")
            }
            try store?.removeWithdrawal(assetId: id)
        }
        return Outcome(asset: restored, size: info.length, etag: info.etag, checkedAgainstRecord: record != nil,
                       wasUploaded: false)
    }

    private func objectInfo(_ id: String) async throws -> (length: Int64, etag: String?) {
        let location = try await client.downloadLocation(database: database, id: id)
        return try await client.remoteObjectInfo(location)
    }
}
