import Foundation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A streaming `multipart/form-data` parser: small fields are collected, the file part is handed on in slices
/// as it arrives, so a body of any size passes through a bounded buffer.
struct MultipartParser {
    struct Part {
        var name: String
        var filename: String?
    }

    enum Event {
        case field(name: String, value: String)
        case fileStart(Part)
        case fileData(UnsafeRawBufferPointer)
        case fileEnd
    }

    struct Malformed: Error { var reason: String }

    private enum State {
        case preamble, afterDelimiter, headers
        case body(Part)
        case done
    }

    private let delimiter: [UInt8]
    private var pending: [UInt8] = [13, 10]  // a virtual CRLF, so the first boundary looks like every other one
    private var state = State.preamble
    private var fieldValue: [UInt8] = []
    private var fieldBytes = 0
    private var sawFile = false
    private var preambleBytes = 0

    static let maxFieldBytes = 64 * 1024
    static let maxHeaderBytes = 16 * 1024

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// The boundary of a `multipart/form-data` content type.
    static func boundary(contentType: String) -> String? {
        let parameters = HeaderParameters.parse(contentType)
        guard parameters.value.lowercased() == "multipart/form-data", let boundary = parameters["boundary"],
            !boundary.isEmpty, boundary.utf8.count <= 200
        else { return nil }
        return boundary
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        // A typed buffer appends with one copy; a raw one would go byte by byte.
        pending.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
        var start = 0
        parsing: while true {
            switch state {
            case .done:
                start = pending.count
                break parsing
            case .preamble:
                if let index = find(delimiter, from: start) {
                    start = index + delimiter.count
                    state = .afterDelimiter
                } else {
                    let keep = max(start, pending.count - (delimiter.count - 1))
                    preambleBytes += keep - start
                    guard preambleBytes < Self.maxHeaderBytes else { throw Malformed(reason: "no boundary found") }
                    start = keep
                    break parsing
                }
            case .afterDelimiter:
                guard pending.count - start >= 2 else { break parsing }
                if pending[start] == UInt8(ascii: "-"), pending[start + 1] == UInt8(ascii: "-") {
                    state = .done
                } else if pending[start] == 13, pending[start + 1] == 10 {
                    state = .headers
                } else {
                    throw Malformed(reason: "bad boundary line")
                }
            case .headers:
                guard let end = find(Array("\r\n\r\n".utf8), from: start) else {
                    guard pending.count - start <= Self.maxHeaderBytes else {
                        throw Malformed(reason: "headers too long")
                    }
                    break parsing
                }
                let block = String(decoding: pending[(start + 2)..<max(start + 2, end)], as: UTF8.self)
                start = end + 4
                let part = try Self.part(headers: block)
                if sawFile { throw Malformed(reason: "the file must be the last field") }
                fieldValue.removeAll(keepingCapacity: true)
                state = .body(part)
                if part.name == "file" {
                    sawFile = true
                    try handle(.fileStart(part))
                }
            case .body(let part):
                let found = find(delimiter, from: start)
                let end = found ?? max(start, pending.count - (delimiter.count - 1))
                if end > start { try emit(part, from: start, to: end, handle) }
                start = end
                guard let found else { break parsing }
                start = found + delimiter.count
                if part.name == "file" {
                    try handle(.fileEnd)
                } else {
                    try handle(.field(name: part.name, value: String(decoding: fieldValue, as: UTF8.self)))
                }
                state = .afterDelimiter
            }
        }
        pending.removeFirst(start)
    }

    private mutating func emit(_ part: Part, from start: Int, to end: Int, _ handle: (Event) throws -> Void) throws {
        if part.name == "file" {
            try pending.withUnsafeBytes { raw in
                try handle(.fileData(UnsafeRawBufferPointer(rebasing: raw[start..<end])))
            }
        } else {
            fieldBytes += end - start
            guard fieldBytes <= Self.maxFieldBytes else { throw Malformed(reason: "form fields too large") }
            fieldValue.append(contentsOf: pending[start..<end])
        }
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard pending.count - start >= needle.count else { return nil }
        return pending.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needleBytes in
                let base = haystack.baseAddress!
                var position = start
                while haystack.count - position >= needle.count {
                    guard
                        let hit = memchr(
                            base + position, Int32(needle[0]), haystack.count - position - needle.count + 1)
                    else { return nil }
                    let offset = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, needleBytes.baseAddress!, needle.count) == 0 { return offset }
                    position = offset + 1
                }
                return nil
            }
        }
    }

    private static func part(headers block: String) throws -> Part {
        for line in block.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition"
            else { continue }
            let disposition = HeaderParameters.parse(String(pair[1]))
            guard disposition.value.lowercased() == "form-data", let name = disposition["name"] else { break }
            return Part(name: name, filename: disposition["filename"])
        }
        throw Malformed(reason: "a part without Content-Disposition: form-data; name=...")
    }
}

/// `value; name=token; other="quoted; string"` as in Content-Type and Content-Disposition.
struct HeaderParameters {
    var value: String
    var parameters: [String: String]

    subscript(name: String) -> String? { parameters[name.lowercased()] }

    static func parse(_ text: String) -> HeaderParameters {
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if inQuotes && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                current.append(character)
            } else if character == ";" && !inQuotes {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        var parameters: [String: String] = [:]
        for item in items.dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            parameters[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] = value
        }
        return HeaderParameters(value: items[0].trimmingCharacters(in: .whitespaces), parameters: parameters)
    }
}
