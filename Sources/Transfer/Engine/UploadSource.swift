import Foundation

/// A file streamed as a request body through libcurl's read and seek callbacks.
final class UploadSource {
    let path: String
    let size: Int64
    private let fd: Int32
    /// errno of a failed read, reported as kind `fileIO`.
    private(set) var readError: Int32?

    init(path: String) throws(TransferError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error(errno, path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw TransferError(kind: .fileIO, message: "cannot upload \(path): not a regular file")
        }
        self.path = path
        self.fd = fd
        self.size = Int64(info.st_size)
    }

    deinit { close(fd) }

    /// Fills `buffer`; returns the byte count, 0 at the end, or nil on a read error.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        while true {
            let count = Foundation.read(fd, buffer, capacity)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            readError = errno
            return nil
        }
    }

    func seek(to offset: Int64) -> Bool {
        lseek(fd, off_t(offset), SEEK_SET) == off_t(offset)
    }

    static func error(_ code: Int32, path: String) -> TransferError {
        TransferError(kind: .fileIO, message: "cannot read \(path): \(String(cString: strerror(code)))")
    }
}
