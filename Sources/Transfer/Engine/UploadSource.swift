import Foundation

/// One attempt's reading position in an ``UploadFile``, for libcurl's read and seek callbacks.
final class UploadSource {
    let file: UploadFile
    let observer: (any RequestBodyObserver)?
    private var offset: Int64 = 0
    /// errno of a failed read, reported as kind `fileIO`.
    private(set) var readError: Int32?

    init(file: UploadFile, observer: (any RequestBodyObserver)? = nil) {
        self.file = file
        self.observer = observer
    }

    var size: Int64 { file.size }
    var name: String { file.name }

    /// Fills `buffer`; returns the byte count, 0 at the end, or nil on a read error.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        switch file.read(into: buffer, capacity: capacity, at: offset) {
        case .success(let count):
            observer?.read(UnsafeRawBufferPointer(start: buffer, count: count), at: offset)
            offset += Int64(count)
            return count
        case .failure(let error):
            readError = error.code
            return nil
        }
    }

    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= file.size else { return false }
        self.offset = offset
        return true
    }
}
