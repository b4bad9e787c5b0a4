import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Which bytes of the file part can skip multipart-kit.
///
/// multipart-kit looks at body bytes one at a time (`prefix(while:)` over a `ByteBufferView`): quick when
/// optimized, but a debug build, which the tests run, takes seconds per MiB. Inside the file part a byte can only
/// end the part where a CR begins the delimiter `CR LF --boundary`, so everything before such a CR goes straight to
/// the file, and multipart-kit reads on from it. A delimiter cut by the end of a buffer leaves multipart-kit
/// halfway through matching it: until that is settled the next bytes go to it too.
struct FileBodyShortcut {
    private let delimiter: [UInt8]
    /// Bytes multipart-kit has read since the last CR it read (`Int.max`: none it could still be matching).
    private var sinceCR = Int.max

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// Whether multipart-kit may be inside a delimiter: it has read fewer than the delimiter and one byte since a CR.
    var parserMayBeMatching: Bool { sinceCR <= delimiter.count }

    /// How many of the next bytes multipart-kit must read before it is back in the body or past the part.
    var bytesToSettle: Int { parserMayBeMatching ? delimiter.count + 1 - sinceCR : 0 }

    /// The length of the leading bytes of `buffer` that cannot begin the delimiter.
    func plainPrefix(of buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return 0 }
            var position = 0
            while position < bytes.count {
                guard let hit = memchr(base + position, 13, bytes.count - position) else { return bytes.count }
                let crAt = base.distance(to: UnsafeRawPointer(hit))
                let compared = min(delimiter.count, bytes.count - crAt)
                let matches = delimiter.withUnsafeBytes { memcmp(hit, $0.baseAddress!, compared) == 0 }
                if matches { return crAt }
                position = crAt + 1
            }
            return bytes.count
        }
    }

    /// Notes bytes that multipart-kit read.
    mutating func parserRead(_ buffer: ByteBuffer) {
        let lastCR = buffer.readableBytesView.lastIndex(of: 13)
        if let lastCR {
            sinceCR = buffer.readableBytesView.endIndex - lastCR
        } else if sinceCR != Int.max {
            sinceCR = sinceCR > Int.max - buffer.readableBytes ? Int.max : sinceCR + buffer.readableBytes
        }
    }

    /// Notes bytes that went straight to the file: multipart-kit stayed in the body.
    mutating func skipped() { sinceCR = Int.max }
}
