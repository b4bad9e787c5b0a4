import ArgumentParser
import Foundation
import PixieBrix
import WireFormat

/// Checks of the options that take dates, ids and `FIELD=VALUE`: usage errors (exit 2) that name the option.
enum OptionCheck {
    /// A `YYYY-MM-DD` calendar date.
    static func date(_ text: String?, option: String) throws {
        guard let text, !RecordFilter.isDate(text) else { return }
        throw ValidationError("\(option) \(text) is not a date: write it as YYYY-MM-DD, e.g. 2024-01-31")
    }

    /// An ISO 8601 timestamp (`2024-01-31T12:00:00Z`) or a `YYYY-MM-DD` date.
    static func timestamp(_ text: String?, option: String) throws {
        guard let text, !RecordFilter.isDate(text), Timestamp.parse(text) == nil else { return }
        throw ValidationError("\(option) \(text) is not a date or timestamp: write YYYY-MM-DD or an ISO 8601 "
            + "timestamp such as 2024-01-31T12:00:00Z")
    }

    /// A UUID, as the API writes ids.
    static func id(_ text: String, option: String, what: String) throws {
        guard UUID(uuidString: text) == nil else { return }
        throw ValidationError("\(option) \(text) is not \(what) id (a UUID)")
    }

    /// `FIELD=VALUE`, split at the first `=`; the field may hold spaces and symbols.
    static func fieldValue(_ text: String, option: String) throws -> RecordFilter.FieldValue {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("\(option) \(text) is not FIELD=VALUE (for example --where \"user email=david@pixiebrix.com\")")
        }
        return RecordFilter.FieldValue(field: String(text[..<equals]), value: String(text[text.index(after: equals)...]))
    }
}
