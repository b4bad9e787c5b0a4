import Crypto
import Foundation
import WireFormat

/// Signs and checks presigned storage requests with the server's secret (HMAC-SHA256).
struct Signer: Sendable {
    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }
    static let algorithm = "AWS4-HMAC-SHA256"
    static let linkLifetime: Micros = 3600 * Timestamp.microsPerSecond

    init(secretHex: String) {
        secret = Array(hex: secretHex)
    }

    func sign(_ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key).hexString
    }

    func isValid(signature: String, for text: String) -> Bool {
        guard signature.utf8.count == 64, let bytes = [UInt8](strictHex: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Array(text.utf8), using: key)
    }

    static func credential(_ now: Micros) -> String {
        "local/\(Timestamp.amzDate(now).prefix(8))/local/s3/aws4_request"
    }

    /// The form fields of a presigned POST for `key`, in the order the client must send them.
    func uploadFields(key objectKey: String, now: Micros, maxSize: Int64) -> [(String, String)] {
        let amzDate = Timestamp.amzDate(now)
        let credential = Self.credential(now)
        let policy = JSONValue.object([
            "expiration": .string(Timestamp.iso(now + Self.linkLifetime)),
            "conditions": .array([
                .object(["bucket": .string("local")]),
                .object(["key": .string(objectKey)]),
                .array([.string("content-length-range"), .int(0), .number(String(maxSize))]),
                .array([.string("starts-with"), .string("$success_action_status"), .string("")]),
                .object(["x-amz-algorithm": .string(Self.algorithm)]),
                .object(["x-amz-credential": .string(credential)]),
                .object(["x-amz-date": .string(amzDate)]),
            ]),
        ])
        let encodedPolicy = Data(policy.jsonText.utf8).base64EncodedString()
        return [
            ("key", objectKey),
            ("policy", encodedPolicy),
            ("x-amz-algorithm", Self.algorithm),
            ("x-amz-credential", credential),
            ("x-amz-date", amzDate),
            ("x-amz-signature", sign(encodedPolicy)),
        ]
    }

    /// A `GET` link to `key` on storage, valid for an hour from `now`.
    func downloadURL(baseURL: String, key objectKey: String, now: Micros) -> String {
        let amzDate = Timestamp.amzDate(now)
        let expires = String(Self.linkLifetime / Timestamp.microsPerSecond)
        let credential = Self.credential(now)
        let signature = sign(Self.downloadCanonical(key: objectKey, date: amzDate, expires: expires))
        let path = objectKey.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: .storageKeyAllowed) ?? "" }
            .joined(separator: "/")
        let credentialParameter = credential.addingPercentEncoding(withAllowedCharacters: .storageKeyAllowed) ?? ""
        return "\(baseURL)/_storage/objects/\(path)?X-Amz-Algorithm=\(Self.algorithm)"
            + "&X-Amz-Credential=\(credentialParameter)&X-Amz-Date=\(amzDate)&X-Amz-Expires=\(expires)"
            + "&X-Amz-SignedHeaders=host&X-Amz-Signature=\(signature)"
    }

    static func downloadCanonical(key: String, date: String, expires: String) -> String {
        "GET\n\(key)\n\(date)\n\(expires)"
    }
}

extension CharacterSet {
    static let storageKeyAllowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
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

extension Array where Element == UInt8 {
    init?(strictHex text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        for index in stride(from: 0, to: utf8.count, by: 2) {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self = bytes
    }

    init(hex text: String) { self = Self(strictHex: text) ?? [] }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
