import Foundation

/// A regular file opened for uploading. The engine reads it through its own descriptor, by offset, and
/// never by name again: a caller that opened the file safely (relative to a folder descriptor, without
/// following links) knows the bytes sent are that file's, whatever happens to its path meanwhile.
public final class UploadFile: Sendable {
    /// The size when it was opened: the `Content-Length` the upload announces.
    public let size: Int64
    /// How messages name the file.
    public let name: String
    let descriptor: Int32

    /// Takes a duplicate of `descriptor`; the caller keeps and closes its own.
    public convenience init(duplicating descriptor: Int32, name: String) throws(TransferError) {
        let duplicate = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard duplicate >= 0 else { throw UploadFile.error(errno, name: name) }
        try self.init(owning: duplicate, name: name)
    }

    /// Opens `path`, following symlinks: a caller that must not follow them opens the file itself and
    /// passes the descriptor to ``init(duplicating:name:)``.
    public convenience init(path: String) throws(TransferError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw UploadFile.error(errno, name: path) }
        try self.init(owning: descriptor, name: path)
    }

    private init(owning descriptor: Int32, name: String) throws(TransferError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw TransferError(kind: .fileIO, message: "cannot upload \(name): not a regular file")
        }
        self.descriptor = descriptor
        self.size = Int64(info.st_size)
        self.name = name
    }

    deinit { close(descriptor) }

    /// Reads up to `capacity` bytes at `offset`; the byte count (0 at the end), or the errno.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int, at offset: Int64) -> Result<Int, Errno> {
        while true {
            let count = pread(descriptor, buffer, capacity, off_t(offset))
            if count >= 0 { return .success(count) }
            if errno != EINTR { return .failure(Errno(code: errno)) }
        }
    }

    struct Errno: Error { let code: Int32 }

    static func error(_ code: Int32, name: String) -> TransferError {
        TransferError(kind: .fileIO, message: "cannot read \(name): \(String(cString: strerror(code)))")
    }
}

/// Sees the bytes of an upload's file as the engine reads them to send, so that a caller can hash an
/// upload on the way out instead of reading the file in a pass of its own first.
///
/// Called on the engine's thread: keep each call cheap. libcurl may rewind (a retry, a redirect): the
/// bytes then come again from `offset` 0.
public protocol RequestBodyObserver: AnyObject, Sendable {
    /// `bytes` were just read from the file at `offset`, to be sent.
    func read(_ bytes: UnsafeRawBufferPointer, at offset: Int64)
}
