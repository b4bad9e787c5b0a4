import MultipartKit
import NIOCore

/// The `multipart/form-data` body of a presigned POST, read as it arrives through multipart-kit's streaming
/// parser: fields are collected (at most ``maxFieldBytes`` together), the file part is handed on in slices of the
/// buffers that came in, so a body of any size passes through without being held.
///
/// What multipart-kit leaves to its caller is checked here: every part names itself with
/// `Content-Disposition: form-data; name=...`, the file is the last part, and what is neither a field value nor
/// file data (preamble, boundaries, part headers, epilogue) stays under ``maxFramingBytes``. Inside the file part,
/// bytes that cannot begin a delimiter go past multipart-kit (``FileBodyShortcut``).
final class FormDataReader {
    enum Event {
        case field(name: String, value: String)
        /// The file part begins; its data follows in `fileData` events.
        case fileStart(filename: String?)
        case fileData(ByteBuffer)
    }

    struct Malformed: Error { var reason: String }

    static let maxFieldBytes = 64 * 1024
    static let maxFramingBytes = 64 * 1024

    private let parser: MultipartParser
    private var shortcut: FileBodyShortcut
    private static let parserPiece = 4096
    private var headers: [(name: String, value: String)] = []
    private var current: (name: String, isFile: Bool)?
    private var fieldValue: [UInt8] = []
    private var fieldBytes = 0
    private var fileBytes: Int64 = 0
    private var received: Int64 = 0
    private var sawFile = false
    private var lastCallbackEndedPart = false
    private var callbacks = 0
    private var events: [Event] = []
    private var failure: Malformed?

    init(boundary: String) {
        parser = MultipartParser(boundary: boundary)
        shortcut = FileBodyShortcut(boundary: boundary)
        parser.onHeader = { [unowned self] name, value in
            callbacks += 1
            lastCallbackEndedPart = false
            if sawFile { fail("the file must be the last field") }
            headers.append((name, value))
        }
        parser.onBody = { [unowned self] buffer in
            callbacks += 1
            lastCallbackEndedPart = false
            guard let part = currentPart() else { return }
            if part.isFile {
                fileBytes += Int64(buffer.readableBytes)
                events.append(.fileData(buffer))
            } else {
                fieldBytes += buffer.readableBytes
                guard fieldBytes <= Self.maxFieldBytes else { return fail("form fields too large") }
                fieldValue.append(contentsOf: buffer.readableBytesView)
            }
        }
        parser.onPartComplete = { [unowned self] in
            callbacks += 1
            guard let part = currentPart() else { return }
            if !part.isFile { events.append(.field(name: part.name, value: String(decoding: fieldValue, as: UTF8.self))) }
            headers.removeAll()
            current = nil
            fieldValue.removeAll(keepingCapacity: true)
            lastCallbackEndedPart = true
        }
    }

    /// The boundary of a `multipart/form-data` content type.
    static func boundary(contentType: String) -> String? {
        let parameters = HeaderParameters.parse(contentType)
        guard parameters.value.lowercased() == "multipart/form-data", let boundary = parameters["boundary"],
            !boundary.isEmpty, boundary.utf8.count <= 200
        else { return nil }
        return boundary
    }

    /// Parses the next buffer of the body and hands what it completed to `handle`, in order.
    func feed(_ buffer: ByteBuffer, _ handle: (Event) throws -> Void) throws {
        received += Int64(buffer.readableBytes)
        var rest = buffer
        while rest.readableBytes > 0, failure == nil {
            let inFileBody = current?.isFile == true
            if inFileBody && !shortcut.parserMayBeMatching {
                let plain = shortcut.plainPrefix(of: rest)
                if plain > 0, let slice = rest.readSlice(length: plain) {
                    fileBytes += Int64(plain)
                    events.append(.fileData(slice))
                    shortcut.skipped()
                    continue
                }
            }
            // Small pieces outside the file's body, so that the shortcut starts soon after the file's headers.
            let count =
                inFileBody
                ? (shortcut.parserMayBeMatching ? shortcut.bytesToSettle : rest.readableBytes)
                : Self.parserPiece
            guard let piece = rest.readSlice(length: min(count, rest.readableBytes)) else { break }
            do {
                try parser.execute(piece)
            } catch {
                throw Malformed(reason: "bad boundary or part header")
            }
            shortcut.parserRead(piece)
        }
        if let failure { throw failure }
        guard received - fileBytes - Int64(fieldBytes) <= Int64(Self.maxFramingBytes) else {
            throw Malformed(reason: "no boundary found, or part headers too long")
        }
        defer { events.removeAll(keepingCapacity: true) }
        for event in events { try handle(event) }
    }

    /// Whether the body ended with its closing boundary, not inside a part.
    ///
    /// multipart-kit does not say whether it reached the epilogue, so a probe asks: after the closing boundary it
    /// ignores anything, while in every other state a CR LF CR LF X turns into a syntax error or a callback.
    func finish() throws {
        let ended = Malformed(reason: "the body ended before its closing boundary")
        guard lastCallbackEndedPart, failure == nil else { throw ended }
        let before = callbacks
        do {
            try parser.execute(Array("\r\n\r\nX".utf8))
        } catch {
            throw ended
        }
        guard callbacks == before else { throw ended }
    }

    private func fail(_ reason: String) {
        if failure == nil { failure = Malformed(reason: reason) }
    }

    /// The part whose headers just ended, named by its Content-Disposition; nil (and a failure) without one.
    private func currentPart() -> (name: String, isFile: Bool)? {
        if failure != nil { return nil }
        if let current { return current }
        let disposition = headers.first { $0.name.lowercased() == "content-disposition" }.map {
            HeaderParameters.parse($0.value)
        }
        guard let disposition, disposition.value.lowercased() == "form-data", let name = disposition["name"] else {
            fail("a part without Content-Disposition: form-data; name=...")
            return nil
        }
        let part = (name: name, isFile: name == "file")
        if part.isFile {
            sawFile = true
            events.append(.fileStart(filename: disposition["filename"]))
        }
        current = part
        return part
    }
}
