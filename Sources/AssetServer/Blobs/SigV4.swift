import Crypto
import Foundation

/// AWS Signature Version 4 for S3: canonical requests, strings to sign, signing keys, presigned GET URLs,
/// presigned POST forms and header-signed requests. Pure: every input, the time included, is a parameter.
struct SigV4: Sendable {
    struct Credentials: Sendable {
        var accessKeyID: String
        var secretAccessKey: String
        var sessionToken: String?
    }

    static let algorithm = "AWS4-HMAC-SHA256"
    static let unsignedPayload = "UNSIGNED-PAYLOAD"
    static let emptyPayloadHash = SHA256.hash(data: [UInt8]()).hexString

    let credentials: Credentials
    let region: String
    var service = "s3"

    /// `YYYYMMDD/region/service/aws4_request` for an `x-amz-date` (`YYYYMMDDTHHMMSSZ`).
    func scope(amzDate: String) -> String { "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request" }

    /// `ACCESS_KEY/scope`, the value of `X-Amz-Credential`.
    func credential(amzDate: String) -> String { "\(credentials.accessKeyID)/\(scope(amzDate: amzDate))" }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    static func signingKey(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = Array(("AWS4" + secret).utf8)
        for part in [day, region, service, "aws4_request"] { key = hmac(key, part) }
        return key
    }

    static func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
    }

    static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        "\(algorithm)\n\(amzDate)\n\(scope)\n\(SHA256.hash(data: Array(canonicalRequest.utf8)).hexString)"
    }

    /// The hex signature of `stringToSign` with the key of the day in `amzDate`.
    func signature(of stringToSign: String, amzDate: String) -> String {
        let key = Self.signingKey(
            secret: credentials.secretAccessKey, day: String(amzDate.prefix(8)), region: region, service: service)
        return Self.hmac(key, stringToSign).hexString
    }

    /// A canonical request and its `SignedHeaders` value. `path` is already URI-encoded (see `encodePath`);
    /// `query` and `headers` are raw; header names are compared in lower case.
    static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String
    ) -> (text: String, signedHeaders: String) {
        let canonicalHeaders = headers.map { (name: $0.0.lowercased(), value: trimmedHeaderValue($0.1)) }
            .sorted { $0.name < $1.name }
        let signedHeaders = canonicalHeaders.map(\.name).joined(separator: ";")
        let text = [
            method,
            path.isEmpty ? "/" : path,
            canonicalQuery(query),
            canonicalHeaders.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Query parameters encoded and sorted by name, then value, joined with `&`.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = encoded.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    private static func trimmedHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    // MARK: Presigned GET

    /// A presigned URL for `method` on `url`'s host and `path` (raw, unencoded, starting with `/`), valid for
    /// `expires` seconds from `amzDate`. Query parameters come in botocore's order (the token after the signed
    /// headers), the signature last.
    func presignedURL(method: String = "GET", base: String, host: String, path: String, amzDate: String, expires: Int)
        -> String
    {
        let encodedPath = Self.encodePath(path)
        var query = [
            ("X-Amz-Algorithm", Self.algorithm), ("X-Amz-Credential", credential(amzDate: amzDate)),
            ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        let signature = presignedSignature(
            method: method, encodedPath: encodedPath, host: host, query: query, amzDate: amzDate)
        let queryText = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return "\(base)\(encodedPath)?\(queryText)&X-Amz-Signature=\(signature)"
    }

    /// The signature of a presigned request: every query parameter but `X-Amz-Signature`, the `host` header,
    /// an unsigned payload.
    func presignedSignature(
        method: String, encodedPath: String, host: String, query: [(String, String)], amzDate: String
    ) -> String {
        let canonical = Self.canonicalRequest(
            method: method, path: encodedPath, query: query, headers: [("host", host)],
            payloadHash: Self.unsignedPayload)
        return signature(
            of: Self.stringToSign(amzDate: amzDate, scope: scope(amzDate: amzDate), canonicalRequest: canonical.text),
            amzDate: amzDate)
    }

    // MARK: Header-signed requests

    /// The headers to add to a request (`x-amz-date`, `x-amz-content-sha256`, the session token, `Authorization`),
    /// signing `host` and every header given.
    func authorizationHeaders(
        method: String, host: String, encodedPath: String, query: [(String, String)] = [],
        headers: [(String, String)] = [], payloadHash: String, amzDate: String
    ) -> [(String, String)] {
        var added = [("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        let canonical = Self.canonicalRequest(
            method: method, path: encodedPath, query: query, headers: [("host", host)] + headers + added,
            payloadHash: payloadHash)
        let signature = signature(
            of: Self.stringToSign(amzDate: amzDate, scope: scope(amzDate: amzDate), canonicalRequest: canonical.text),
            amzDate: amzDate)
        let authorization =
            "\(Self.algorithm) Credential=\(credential(amzDate: amzDate)), SignedHeaders=\(canonical.signedHeaders), "
            + "Signature=\(signature)"
        return added + [("Authorization", authorization)]
    }

    // MARK: Encoding

    /// RFC 3986 unreserved characters stay; every other byte of the UTF-8 becomes `%XX` (upper case).
    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF")
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out.append("%")
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// An S3 object path, each segment encoded once (S3 does not double-encode).
    static func encodePath(_ path: String) -> String { encode(path, keepSlash: true) }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
