import Foundation
import WireFormat

/// Which records a listing selects: every filter of the records endpoint, all optional and combinable.
///
/// ```swift
/// var filter = RecordFilter()
/// filter.startDate = "2024-01-01"
/// filter.equals.append(.init(field: "user email", value: "david@pixiebrix.com"))
/// ```
public struct RecordFilter: Sendable, Equatable {
    /// A top-level data field that must equal a string.
    public struct FieldValue: Sendable, Equatable {
        public var field: String
        public var value: String
        public init(field: String, value: String) {
            self.field = field
            self.value = value
        }
    }

    /// `YYYY-MM-DD`, inclusive, on the record's creation date.
    public var startDate: String?
    /// `YYYY-MM-DD`, inclusive, on the record's creation date.
    public var endDate: String?
    public var equals: [FieldValue] = []
    /// Fields that must be null or absent.
    public var null: [String] = []
    /// Fields that must be present and not null.
    public var notNull: [String] = []

    public init(startDate: String? = nil, endDate: String? = nil, equals: [FieldValue] = [], null: [String] = [],
                notNull: [String] = []) {
        self.startDate = startDate
        self.endDate = endDate
        self.equals = equals
        self.null = null
        self.notNull = notNull
    }

    /// The query parameters, unencoded (the client percent-encodes names and values strictly).
    public var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let startDate { items.append(("start_date", startDate)) }
        if let endDate { items.append(("end_date", endDate)) }
        items += equals.map { ("data__\($0.field)", $0.value) }
        items += null.map { ("data__\($0)__isnull", "true") }
        items += notNull.map { ("data__\($0)__isnull", "false") }
        return items
    }

    /// Whether `text` is a calendar date written `YYYY-MM-DD` (what `start_date` and `end_date` take).
    public static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }
}

/// The media types the records endpoint answers in.
public enum RecordMediaType: String, Sendable {
    case json = "application/json"
    case csv = "text/csv"
}

/// One page of the records endpoint as the server sent it: a JSON array or a CSV document with its header row.
public struct RecordPage: Sendable {
    /// 1-based.
    public var number: Int
    public var body: Data
}

/// What an export job produces.
public enum ExportFormat: String, Sendable, CaseIterable {
    case json, csv, xlsx

    /// The `media_type` of the job request.
    public var mediaType: String {
        switch self {
        case .json: "application/json"
        case .csv: "text/csv"
        case .xlsx: "application/xlsx"
        }
    }

    public var fileExtension: String { rawValue }
}

/// An export job as `GET /api/databases/records/jobs/{id}/` shows it.
public struct ExportJob: Decodable, Sendable, Equatable {
    public enum Status: String, Decodable, Sendable {
        case unknown = "UNKNOWN", pending = "PENDING", started = "STARTED", success = "SUCCESS", failure = "FAILURE"

        public var isFinished: Bool { self == .success || self == .failure }
    }

    public var id: String
    public var status: Status
    public var createdAt: Date?
    /// On `SUCCESS`, a storage link to the exported file (valid for an hour).
    public var data: URL?
    public var errorMessage: String?

    public init(id: String, status: Status, createdAt: Date? = nil, data: URL? = nil, errorMessage: String? = nil) {
        self.id = id
        self.status = status
        self.createdAt = createdAt
        self.data = data
        self.errorMessage = errorMessage
    }

    enum CodingKeys: String, CodingKey {
        case id, status, data
        case createdAt = "created_at"
        case errorMessage = "error_message"
    }
}

/// An export job that ended in `FAILURE`, or did not finish in time.
public struct ExportJobError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case failed(message: String?)
        case timedOut(lastStatus: ExportJob.Status, seconds: Double)
    }

    public var jobID: String
    public var reason: Reason

    public var description: String {
        switch reason {
        case .failed(let message):
            return "export job \(jobID) failed: \(message.flatMap { $0.isEmpty ? nil : $0 } ?? "the server gave no reason")"
        case .timedOut(let status, let seconds):
            return "export job \(jobID) is still \(status.rawValue) after \(Int(seconds.rounded())) s "
                + "(raise --timeout, or look it up later by its id)"
        }
    }
}

/// One day of archived records (`GET .../record-archives/`).
public struct RecordArchive: Decodable, Sendable, Equatable {
    public struct DatabaseReference: Decodable, Sendable, Equatable {
        public var id: String
        public var name: String
    }

    public var id: String
    public var database: DatabaseReference
    /// `YYYY-MM-DD`: the records last updated on that date.
    public var date: String
    /// A presigned storage link to the day's JSON Lines file, valid for an hour.
    public var file: URL
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, database, date, file
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
