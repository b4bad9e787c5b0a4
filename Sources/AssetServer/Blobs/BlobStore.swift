import Foundation
import WireFormat

/// Where asset bytes, export files and record archives live: the emulated storage under `--data` (``FileBlobStore``)
/// or an S3 bucket (``S3BlobStore``). Keys are the server's (`assets/<db>/<id>`, `exports/...`, `archives/...`).
protocol BlobStore: Sendable {
    /// The `upload_url` and ordered `fields` of a presigned POST for `key`, valid for an hour from `now`.
    func uploadForm(key: String, now: Micros, maxSize: Int64) -> (url: String, fields: [(String, String)])

    /// A presigned `GET` link to `key`, valid for an hour from `now`.
    func downloadURL(key: String, now: Micros) -> String

    /// The size of the object under `key`, or nil when there is none.
    func size(of key: String) async throws -> Int64?

    /// Stores the finished file at `path` under `key` (the file may be moved away).
    func store(file path: String, key: String, size: Int64, md5: String, contentType: String, now: Micros)
        async throws

    /// Stores the finished file at `path` under `key` inside the metadata transaction `db` (which the emulated
    /// storage indexes its blobs in; S3 writes at once). Returns the cleanup to run once `db` has committed.
    func store(
        file path: String, key: String, size: Int64, md5: String, contentType: String, now: Micros,
        within db: any SQLExecutor
    ) async throws -> BlobCleanup

    /// The bytes under `key`, or nil when there is none.
    func contents(of key: String) async throws -> [UInt8]?
}

/// What a blob write inside a metadata transaction leaves to do after the commit: the emulated storage deletes the
/// file the new blob replaced (before the commit, a rollback would leave the old row pointing at nothing).
struct BlobCleanup: Sendable {
    var afterCommit: @Sendable () -> Void = {}
}

/// Which blob store a server uses.
public enum BlobsConfiguration: Sendable, Equatable {
    /// The emulated presigned storage under the data folder.
    case file
    /// An S3 bucket (any S3-compatible service).
    case s3(S3Location)

    /// Reads `--blobs`: `file`, or `s3://BUCKET[/PREFIX]` with the endpoint, region and credentials given.
    ///
    /// - Parameters:
    ///   - text: the `--blobs` value.
    ///   - endpoint: `--s3-endpoint`; nil means the AWS regional endpoint of `region`.
    ///   - region: `--s3-region`.
    ///   - environment: where `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` are read.
    /// - Throws: ``BlobsConfigurationError`` naming the flag or variable to fix.
    public static func parse(
        _ text: String, endpoint: String? = nil, region: String = "us-east-1", environment: [String: String]
    ) throws(BlobsConfigurationError) -> BlobsConfiguration {
        if text == "file" {
            guard endpoint == nil else { throw .init("--s3-endpoint needs --blobs s3://BUCKET[/PREFIX]") }
            return .file
        }
        guard text.hasPrefix("s3://") else {
            throw .init("--blobs must be `file` or `s3://BUCKET[/PREFIX]`, not \(text.debugDescription)")
        }
        let rest = text.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        guard (3...63).contains(bucket.count),
            bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
        else {
            throw .init("--blobs: \(bucket.debugDescription) is not an S3 bucket name (3 to 63 of a-z 0-9 . -)")
        }
        guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw .init("--s3-region: \(region.debugDescription) is not a region name")
        }
        var endpointURL = endpoint ?? "https://s3.\(region).amazonaws.com"
        while endpointURL.hasSuffix("/") { endpointURL.removeLast() }
        guard let components = URLComponents(string: endpointURL), ["http", "https"].contains(components.scheme ?? ""),
            components.host?.isEmpty == false, components.path.isEmpty, components.query == nil
        else { throw .init("--s3-endpoint must be an http(s)://host[:port] URL, not \(endpointURL.debugDescription)") }
        guard let accessKey = environment["AWS_ACCESS_KEY_ID"], !accessKey.isEmpty else {
            throw .init("--blobs s3:// needs the environment variable AWS_ACCESS_KEY_ID")
        }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw .init("--blobs s3:// needs the environment variable AWS_SECRET_ACCESS_KEY")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return .s3(
            S3Location(
                bucket: bucket, prefix: prefix, endpoint: endpointURL, region: region,
                pathStyle: endpoint != nil || bucket.contains("."), accessKeyID: accessKey, secretAccessKey: secret,
                sessionToken: token))
    }
}

extension BlobsConfiguration: CustomStringConvertible {
    /// `file`, or the bucket, prefix and endpoint; never the credentials.
    public var description: String {
        switch self {
        case .file: "file"
        case .s3(let location): location.description
        }
    }
}

/// A bucket, a key prefix, the endpoint that serves it and the credentials to sign with.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    /// Keys are stored as `PREFIX/key`; empty for none.
    public var prefix: String
    /// `scheme://host[:port]`.
    public var endpoint: String
    public var region: String
    /// `endpoint/bucket/key` (any S3-compatible service) rather than `bucket.endpoint-host/key` (AWS).
    public var pathStyle: Bool
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(
        bucket: String, prefix: String, endpoint: String, region: String, pathStyle: Bool, accessKeyID: String,
        secretAccessKey: String, sessionToken: String?
    ) {
        (self.bucket, self.prefix, self.endpoint, self.region, self.pathStyle) =
            (bucket, prefix, endpoint, region, pathStyle)
        (self.accessKeyID, self.secretAccessKey, self.sessionToken) = (accessKeyID, secretAccessKey, sessionToken)
    }
}

extension S3Location: CustomStringConvertible, CustomDebugStringConvertible {
    /// The bucket, prefix and endpoint; never the credentials.
    public var description: String {
        "s3://\(bucket)\(prefix.isEmpty ? "" : "/" + prefix) at \(endpoint) (\(region))"
    }
    public var debugDescription: String { description }
}

/// A `--blobs` setting that cannot work, with the flag or variable to fix.
public struct BlobsConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
