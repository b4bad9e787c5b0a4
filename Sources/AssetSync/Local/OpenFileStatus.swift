import Foundation

/// What `fstat` says of an open file's content without reading it. The same status before and after a
/// read means the bytes read are the file's as it stood: any write in between moves the status-change time.
struct OpenFileStatus: Equatable, Sendable {
    var size: Int64
    var mtimeNs: Int64
    var ctimeNs: Int64
    var inode: Int64

    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        size = Int64(info.st_size)
        mtimeNs = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
        ctimeNs = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
        inode = Int64(bitPattern: UInt64(info.st_ino))
    }
}
