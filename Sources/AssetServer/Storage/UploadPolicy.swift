import Foundation
import WireFormat

/// What a verified presigned POST allows.
struct UploadPermit {
    var key: String
    var sizeRange: ClosedRange<Int64>
    var successStatus: Int
    var contentType: String
}

extension Signer {
    /// Checks the form fields of a presigned POST as S3 does: the signature over the policy, the policy's expiry,
    /// every condition, and no field the policy does not name.
    func permit(fields: [(name: String, value: String)], now: Micros) throws(StorageError) -> UploadPermit {
        var byName: [String: String] = [:]
        for field in fields { byName[field.name.lowercased()] = field.value }
        guard let key = byName["key"] else {
            throw .invalidArgument(
                "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."
            )
        }
        guard let policyText = byName["policy"], let signature = byName["x-amz-signature"] else {
            throw .accessDenied("Bucket POST must contain a field named 'policy' and 'x-amz-signature'.")
        }
        guard byName["x-amz-algorithm"] == Self.algorithm else {
            throw .invalidArgument("Only AWS4-HMAC-SHA256 is supported as x-amz-algorithm.")
        }
        guard isValid(signature: signature, policy: policyText, credential: byName["x-amz-credential"] ?? "") else {
            throw .signatureMismatch
        }
        guard let decoded = Data(base64Encoded: policyText), let policy = try? JSONValue(parsing: [UInt8](decoded)),
            let expirationText = policy["expiration"]?.stringValue, let expiration = Timestamp.parseISO(expirationText),
            case .array(let conditions)? = policy["conditions"]
        else {
            throw .invalidArgument("Invalid Policy: Invalid JSON.")
        }
        guard now < expiration else { throw .accessDenied("Invalid according to Policy: Policy expired.") }
        var named: Set<String> = ["policy", "x-amz-signature", "file"]
        var sizeRange: ClosedRange<Int64> = 0...Int64.max
        for condition in conditions {
            switch condition {
            case .object(let members):
                for member in members {
                    let name = member.key.lowercased()
                    named.insert(name)
                    if name == "bucket" { continue }
                    guard byName[name] == member.value.stringValue else {
                        throw Self.conditionFailed(["eq", "$\(member.key)", member.value.plainText])
                    }
                }
            case .array(let items) where items.count == 3:
                let operation = items[0].stringValue?.lowercased() ?? ""
                if operation == "content-length-range" {
                    guard case .number(let low) = items[1], case .number(let high) = items[2],
                        let min = Int64(low), let max = Int64(high), min <= max
                    else { throw .invalidArgument("Invalid Policy: Invalid content-length-range.") }
                    sizeRange = min...max
                    continue
                }
                guard let field = items[1].stringValue, field.hasPrefix("$"), let operand = items[2].stringValue else {
                    throw .invalidArgument("Invalid Policy: Invalid condition.")
                }
                let name = String(field.dropFirst()).lowercased()
                named.insert(name)
                let given = byName[name]
                switch operation {
                case "eq":
                    guard given == operand else { throw Self.conditionFailed(["eq", field, operand]) }
                case "starts-with":
                    guard given?.hasPrefix(operand) ?? true else {
                        throw Self.conditionFailed(["starts-with", field, operand])
                    }
                default:
                    throw .invalidArgument("Invalid Policy: Invalid condition.")
                }
            default:
                throw .invalidArgument("Invalid Policy: Invalid condition.")
            }
        }
        let extra = fields.map(\.name).filter {
            !named.contains($0.lowercased()) && !$0.lowercased().hasPrefix("x-ignore-")
        }
        if !extra.isEmpty {
            throw .accessDenied("Invalid according to Policy: Extra input fields: \(extra.joined(separator: ", "))")
        }
        let status = byName["success_action_status"].flatMap(Int.init) ?? 204
        return UploadPermit(
            key: key, sizeRange: sizeRange, successStatus: [200, 201, 204].contains(status) ? status : 204,
            contentType: byName["content-type"] ?? "application/octet-stream")
    }

    private static func conditionFailed(_ condition: [String]) -> StorageError {
        let text = JSONValue.array(condition.map { .string($0) }).jsonText
        return .accessDenied("Invalid according to Policy: Policy Condition failed: \(text)")
    }
}
