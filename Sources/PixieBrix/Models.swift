import Foundation
import WireFormat

/// A PixieBrix database.
public struct Database: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var organizationID: String?
    public var type: String
    public var createdAt: Date
    public var lastWriteAt: Date?
    public var numRecords: Int

    enum CodingKeys: String, CodingKey {
        case id, name, type
        case organizationID = "organization_id"
        case createdAt = "created_at"
        case lastWriteAt = "last_write_at"
        case numRecords = "num_records"
    }
}

/// A database asset: metadata of one stored file.
public struct Asset: Codable, Sendable, Equatable {
    public var id: String
    public var downloadURL: String
    /// The original filename, which may contain `/`.
    public var filename: String
    public var isUploaded: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, filename
        case downloadURL = "download_url"
        case isUploaded = "is_uploaded"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// An S3-style presigned POST: where to send the bytes and the form fields to send before them.
public struct PresignedPost: Sendable, Equatable {
    public var url: URL
    /// One form field, sent as its own part before the file.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The form fields in the order the server gave them.
    public var fields: [Field]

    public init(url: URL, fields: [Field]) {
        self.url = url
        self.fields = fields
    }
}

/// A created asset with its presigned POST.
public struct AssetUpload: Sendable, Equatable {
    public var asset: Asset
    public var post: PresignedPost
}

extension JSONDecoder {
    /// Decodes the API's JSON, its timestamps through ``Timestamp``.
    static let api: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 timestamp: \(text)")
            }
            return date
        }
        return decoder
    }()
}
