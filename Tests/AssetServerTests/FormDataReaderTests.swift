import Foundation
import NIOCore
import Testing

@testable import AssetServer

/// The presigned POST body as `FormDataReader` reads it through multipart-kit, fed in buffers of every size.
@Suite("multipart/form-data reading")
struct FormDataReaderTests {
    static let boundary = "xyzzy"

    static func part(_ name: String, _ value: [UInt8], filename: String? = nil) -> [UInt8] {
        var header = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
        if let filename { header += "; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream" }
        return Array((header + "\r\n\r\n").utf8) + value + Array("\r\n".utf8)
    }

    static func body(
        _ fields: [(String, String)], file: [UInt8]?, preamble: String = "", epilogue: String = "\r\n"
    ) -> [UInt8] {
        var body = Array(preamble.utf8)
        for (name, value) in fields { body += part(name, Array(value.utf8)) }
        if let file { body += part("file", file, filename: "report; \"final\".bin") }
        return body + Array("--\(boundary)--\(epilogue)".utf8)
    }

    struct Read {
        var fields: [String] = []
        var filename: String??
        var file: [UInt8] = []
    }

    /// Feeds `body` in buffers of `size` bytes and gathers what the reader handed on.
    static func read(_ body: [UInt8], in size: Int) throws -> Read {
        let reader = FormDataReader(boundary: boundary)
        var read = Read()
        var start = 0
        while start < body.count {
            let end = min(body.count, start + size)
            try reader.feed(ByteBuffer(bytes: body[start..<end])) { event in
                switch event {
                case .field(let name, let value): read.fields.append("\(name)=\(value)")
                case .fileStart(let filename): read.filename = .some(filename)
                case .fileData(let slice): read.file += slice.readableBytesView
                }
            }
            start = end
        }
        try reader.finish()
        return read
    }

    static func reason(_ body: [UInt8], in size: Int) -> String? {
        do {
            _ = try read(body, in: size)
            return nil
        } catch let malformed as FormDataReader.Malformed {
            return malformed.reason
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test("a file holding near-boundaries comes out byte for byte, with the fields in order, however it is split")
    func nearBoundaries() throws {
        // Each piece starts like the delimiter `\r\n--xyzzy` and breaks off; the file ends with one too.
        let file =
            Array("\r\n--xyzz\r\r\n-\r\n--xyzzQ--xyzzy\r\n\r\n--x".utf8) + [0, 255, 13, 10, 13] + Array("\r\n--xyzz".utf8)
        let body = Self.body([("key", "assets/a b"), ("policy", "e30=")], file: file, preamble: "ignored\r\n")
        for size in [1, 2, 3, 5, 8, 13, 64, body.count] {
            let read = try Self.read(body, in: size)
            #expect(read.file == file, "buffers of \(size)")
            #expect(read.fields == ["key=assets/a b", "policy=e30="], "buffers of \(size)")
            #expect(read.filename == .some("report; \"final\".bin"), "buffers of \(size)")
        }
    }

    @Test("a large file with near-delimiters planted at buffer ends comes out byte for byte")
    func largeFileAcrossBuffers() throws {
        var file = randomBytes(300_000)
        let near = Array("\r\n--xyzz".utf8)
        for offset in [0, 4090, 4096, 8189, 65_530, 65_536 - 3, 131_070, 299_990] {
            file.replaceSubrange(offset..<(offset + near.count), with: near)
        }
        file += Array("\r\n--xyzzy".utf8.dropLast())
        let body = Self.body([("key", "k")], file: file)
        for size in [1000, 4099, 8192, 65_536, body.count] {
            let read = try Self.read(body, in: size)
            #expect(read.file == file, "buffers of \(size)")
            #expect(read.fields == ["key=k"])
        }
    }

    @Test("an empty file and a body without a preamble's CRLF are read")
    func emptyFile() throws {
        let read = try Self.read(Self.body([("key", "k")], file: []), in: 4)
        #expect(read.file.isEmpty)
        #expect(read.filename == .some("report; \"final\".bin"))
        #expect(read.fields == ["key=k"])
    }

    @Test("malformed bodies are refused with the reason, whatever the buffer size")
    func malformed() {
        let good = Self.body([("key", "k")], file: Array(repeating: 7, count: 100))
        let field = Self.part("key", Array("k".utf8))
        let cases: [(String, [UInt8], String)] = [
            ("cut inside the file", Array(good.dropLast(30)), "before its closing boundary"),
            ("cut after a boundary's CRLF", field + Array("--\(Self.boundary)\r\n".utf8), "before its closing boundary"),
            ("cut after a boundary's CR", field + Array("--\(Self.boundary)\r".utf8), "before its closing boundary"),
            (
                "cut inside a part header", field + Array("--\(Self.boundary)\r\nContent-Disp".utf8),
                "before its closing boundary"
            ),
            ("cut inside the preamble", Array("no boundary here".utf8), "before its closing boundary"),
            (
                "a part without Content-Disposition",
                Array("--\(Self.boundary)\r\nContent-Type: text/plain\r\n\r\nv\r\n--\(Self.boundary)--\r\n".utf8),
                "without Content-Disposition"
            ),
            (
                "a field after the file",
                Self.part("file", [1], filename: "f") + Self.part("key", Array("k".utf8))
                    + Array("--\(Self.boundary)--\r\n".utf8),
                "the file must be the last field"
            ),
            (
                "70 KiB of field values",
                Self.body([("a", String(repeating: "v", count: 40_000)), ("b", String(repeating: "v", count: 30_000))],
                    file: [1]),
                "form fields too large"
            ),
            (
                "70 KiB of part headers",
                Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"key\"\r\n".utf8)
                    + Array(String(repeating: "X-Pad: \(String(repeating: "p", count: 1000))\r\n", count: 70).utf8)
                    + Array("\r\nk\r\n--\(Self.boundary)--\r\n".utf8),
                "part headers too long"
            ),
            ("70 KiB before any boundary", Array(repeating: UInt8(ascii: "a"), count: 70_000), "no boundary found"),
            ("a bad character in a header name", Array("--\(Self.boundary)\r\nBad Name: x\r\n\r\n".utf8), "bad boundary"),
        ]
        for (name, body, expected) in cases {
            for size in body.count > 10_000 ? [97, 4096, body.count] : [1, 7, 4096, body.count] {
                let reason = Self.reason(body, in: size)
                #expect(reason?.contains(expected) == true, "\(name), buffers of \(size): \(reason ?? "accepted")")
            }
        }
    }
}
