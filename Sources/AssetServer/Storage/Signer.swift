import Foundation
import WireFormat

/// Signs and checks the emulated storage's presigned requests: SigV4 with the server's secret, as S3 signs them,
/// for the bucket `local` in the region `local`.
struct Signer: Sendable {
    static let algorithm = SigV4.algorithm
    static let linkLifetime: Micros = 3600 * Timestamp.microsPerSecond
    static let bucket = "local"
    let sigV4: SigV4

    init(secretHex: String) {
        sigV4 = SigV4(
            credentials: .init(accessKeyID: "local", secretAccessKey: secretHex, sessionToken: nil), region: "local")
    }

    /// The form fields of a presigned POST for `key`, in the order the client must send them.
    func uploadFields(key objectKey: String, now: Micros, maxSize: Int64) -> [(String, String)] {
        sigV4.postForm(
            bucket: Self.bucket, key: objectKey, conditions: Self.uploadConditions(maxSize: maxSize),
            amzDate: Timestamp.amzDate(now), expiration: Self.expiration(now))
    }

    /// A `GET` link to `key` on storage, valid for an hour from `now`.
    func downloadURL(baseURL: String, key objectKey: String, now: Micros) -> String {
        sigV4.presignedURL(
            base: baseURL, host: Self.host(baseURL), path: Self.objectPath(objectKey), amzDate: Timestamp.amzDate(now),
            expires: Int(Self.linkLifetime / Timestamp.microsPerSecond))
    }

    /// Whether `signature` signs the POST `policy` with the key of the day named in `credential`.
    func isValid(signature: String, policy: String, credential: String) -> Bool {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "local", parts[2] == "local", parts[3] == "s3", parts[4] == "aws4_request"
        else { return false }
        return constantTimeEqual(signature, sigV4.postSignature(policy: policy, amzDate: String(parts[1])))
    }

    /// Whether `signature` signs a presigned `GET`/`HEAD` of `key` with these query parameters (all but the
    /// signature) for links that start with `baseURL`.
    func isValidDownload(
        signature: String, method: String, key objectKey: String, query: [(String, String)], amzDate: String,
        baseURL: String
    ) -> Bool {
        let expected = sigV4.presignedSignature(
            method: method, encodedPath: SigV4.encodePath(Self.objectPath(objectKey)), host: Self.host(baseURL),
            query: query, amzDate: amzDate)
        return constantTimeEqual(signature, expected)
    }

    static func objectPath(_ key: String) -> String { "/_storage/objects/" + key }

    /// The conditions every upload policy carries, on either backend, besides bucket, key and signing fields.
    static func uploadConditions(maxSize: Int64) -> [SigV4.PolicyCondition] {
        [.contentLengthRange(0, maxSize), .startsWith("success_action_status", "")]
    }

    /// The policy's `expiration`: an hour from `now`, to the second, as botocore writes it.
    static func expiration(_ now: Micros) -> String {
        let seconds = now / Timestamp.microsPerSecond - (now % Timestamp.microsPerSecond < 0 ? 1 : 0)
        return Timestamp.iso((seconds * Timestamp.microsPerSecond) + linkLifetime)
    }

    /// `host[:port]` of a base URL, as a client sends it in `Host`.
    static func host(_ baseURL: String) -> String {
        guard let components = URLComponents(string: baseURL), let host = components.percentEncodedHost else {
            return ""
        }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return components.port.map { "\(bracketed):\($0)" } ?? bracketed
    }
}
