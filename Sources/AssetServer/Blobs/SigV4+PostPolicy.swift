import Foundation

extension SigV4 {
    /// One condition of a POST policy.
    enum PolicyCondition: Sendable, Equatable {
        /// `{"name": "value"}`: the field must equal the value.
        case equals(String, String)
        /// `["starts-with", "$name", "prefix"]`.
        case startsWith(String, String)
        /// `["content-length-range", min, max]`.
        case contentLengthRange(Int64, Int64)
    }

    /// The form fields of a presigned POST for `key` in `bucket`, in botocore's order: `key`,
    /// `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, [`x-amz-security-token`], `policy`, `x-amz-signature`.
    /// The policy holds `conditions`, then the bucket, the key and the signing fields, as botocore writes it,
    /// so that the same inputs give the same bytes.
    func postForm(
        bucket: String, key: String, conditions: [PolicyCondition], amzDate: String, expiration: String
    ) -> [(String, String)] {
        var all = conditions + [.equals("bucket", bucket), .equals("key", key)]
        var fields = [("key", key)]
        let signing = [
            ("x-amz-algorithm", Self.algorithm), ("x-amz-credential", credential(amzDate: amzDate)),
            ("x-amz-date", amzDate),
        ] + (credentials.sessionToken.map { [("x-amz-security-token", $0)] } ?? [])
        for (name, value) in signing {
            fields.append((name, value))
            all.append(.equals(name, value))
        }
        let policy = Data(Self.policyDocument(expiration: expiration, conditions: all).utf8).base64EncodedString()
        fields.append(("policy", policy))
        fields.append(("x-amz-signature", postSignature(policy: policy, amzDate: amzDate)))
        return fields
    }

    /// A POST policy is its own string to sign: the base64 text, signed with the key of the day.
    func postSignature(policy: String, amzDate: String) -> String { signature(of: policy, amzDate: amzDate) }

    /// The policy as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII as `\uXXXX`).
    static func policyDocument(expiration: String, conditions: [PolicyCondition]) -> String {
        let items = conditions.map { condition -> String in
            switch condition {
            case .equals(let name, let value): "{\(jsonString(name)): \(jsonString(value))}"
            case .startsWith(let name, let prefix):
                "[\"starts-with\", \(jsonString("$" + name)), \(jsonString(prefix))]"
            case .contentLengthRange(let low, let high): "[\"content-length-range\", \(low), \(high)]"
            }
        }
        return "{\"expiration\": \(jsonString(expiration)), \"conditions\": [\(items.joined(separator: ", "))]}"
    }

    /// A JSON string literal with `ensure_ascii` escaping.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20...0x7E: out.append(Character(Unicode.Scalar(UInt8(unit))))
            default:
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}
