import Crypto
import Foundation

/// Deterministic pseudo-random bytes, so that server and test agree on content without sharing it.
enum TestData {
    static func bytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> Data {
        var state = seed ^ UInt64(count)
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = count / 8
            let wordPointer = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            for index in 0..<words {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                wordPointer[index] = state
            }
            for index in (words * 8)..<count {
                raw[index] = UInt8(truncatingIfNeeded: state >> (index % 8 * 8))
            }
        }
        return data
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func sha256(file path: String) throws -> String {
        try sha256(Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A fresh temporary directory, removed by the caller with `FileManager.removeItem`.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("transfer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// What `/echo` answers: the request as the server received it.
struct EchoReply: Codable {
    var method: String
    var headers: [[String]]
    var length: Int
    var sha256: String
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0[0].lowercased() == name.lowercased() }?[1]
    }
}

/// What `/upload` answers: the streamed body's length and hash, and how it was framed.
struct UploadReply: Codable {
    var method: String
    var length: Int
    var sha256: String
    var contentLength: String?
    var transferEncoding: String?
}

/// What `/multipart` answers: the parts in the order the server received them.
struct MultipartReply: Codable {
    struct Part: Codable {
        var name: String
        var filename: String?
        var contentType: String?
        var length: Int
        var sha256: String
        var value: String?
    }

    var contentLength: String?
    var transferEncoding: String?
    var parts: [Part]
}
