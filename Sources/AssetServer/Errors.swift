import Hummingbird
import WireFormat

/// An API failure answered as Django REST Framework does: `{"detail": "..."}` or `{"field": ["..."]}`.
struct APIError: Error {
    var status: HTTPResponse.Status
    var body: JSONValue
    var headers: HTTPFields = [:]

    static func detail(_ status: HTTPResponse.Status, _ message: String) -> APIError {
        APIError(status: status, body: .object(["detail": .string(message)]))
    }

    static func field(_ name: String, _ messages: String...) -> APIError {
        APIError(status: .badRequest, body: .object([.init(key: name, value: .array(messages.map { .string($0) }))]))
    }

    static let notFound = detail(.notFound, "Not found.")
    static let forbidden = detail(.forbidden, "You do not have permission to perform this action.")
    static let serverError = detail(.internalServerError, "A server error occurred.")
    static let invalidVersion = detail(.notAcceptable, "Invalid version in \"Accept\" header.")
    static let notAcceptable = detail(.notAcceptable, "Could not satisfy the request Accept header.")
    static let invalidPage = detail(.notFound, "Invalid page.")
}

/// A storage failure answered as S3 does: `<Error><Code>...</Code><Message>...</Message></Error>`.
struct StorageError: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    static func accessDenied(_ message: String) -> StorageError {
        StorageError(status: .forbidden, code: "AccessDenied", message: message)
    }

    static func invalidArgument(_ message: String) -> StorageError {
        StorageError(status: .badRequest, code: "InvalidArgument", message: message)
    }

    static func malformed(_ message: String) -> StorageError {
        StorageError(status: .badRequest, code: "MalformedPOSTRequest", message: message)
    }

    static let noSuchKey = StorageError(
        status: .notFound, code: "NoSuchKey", message: "The specified key does not exist.")
    static let signatureMismatch = StorageError(
        status: .forbidden, code: "SignatureDoesNotMatch",
        message: "The request signature we calculated does not match the signature you provided.")
    static let internalError = StorageError(
        status: .internalServerError, code: "InternalError",
        message: "We encountered an internal error. Please try again.")

    var xml: String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(XML.escape(code))</Code>"
            + "<Message>\(XML.escape(message))</Message></Error>"
    }
}

enum XML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            // Characters XML 1.0 cannot carry at all.
            case let s where s.value < 0x20 || s.value == 0xFFFE || s.value == 0xFFFF: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
