import Foundation
import Transfer

/// What one download from storage did to its file, read from the storage response so that callers
/// need not know about `Range`, `Content-Range` or status codes.
public struct StorageDownload: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// `200`: the whole object was written from the file's first byte (anything kept was replaced).
        case whole
        /// `206`: the object's remaining bytes were appended after ``StorageDownload/resumedFrom`` kept bytes.
        case appended
        /// `416`: the file already held at least as many bytes as the object; nothing was written.
        case nothingLeft
    }

    public var outcome: Outcome
    /// The storage status, for messages.
    public var status: Int
    /// The object's full length as storage stated it (`Content-Range` total, or `Content-Length` of a `200`).
    public var size: Int64?
    /// Storage's `ETag`, unquoted and lowercased (the hex MD5 for a single-part object).
    public var etag: String?
    /// The offset the last attempt resumed from (0 when it started over).
    public var resumedFrom: Int64

    public init(outcome: Outcome, status: Int, size: Int64?, etag: String?, resumedFrom: Int64) {
        self.outcome = outcome
        self.status = status
        self.size = size
        self.etag = etag
        self.resumedFrom = resumedFrom
    }

    /// Reads a storage response to a download; `nil` for a status that is neither `2xx` nor `416`.
    init?(_ response: HTTPResponse) {
        let outcome: Outcome
        switch response.status {
        case 206: outcome = .appended
        case 416: outcome = .nothingLeft
        case 200..<300: outcome = .whole
        default: return nil
        }
        var size: Int64?
        if outcome == .whole {
            size = response.headers["Content-Length"].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        } else {
            size = Self.totalLength(contentRange: response.headers["Content-Range"])
        }
        self.init(outcome: outcome, status: response.status, size: size,
                  etag: response.headers["ETag"].map(PixieBrixClient.unquotedETag), resumedFrom: response.resumedFrom)
    }

    /// The `N` of `bytes a-b/N` or `bytes */N`; nil when absent or `*`.
    static func totalLength(contentRange: String?) -> Int64? {
        contentRange?.split(separator: "/").last.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
    }
}
