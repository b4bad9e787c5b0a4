import GRDB

/// What the manifest says of one path: enough to tell an unchanged file from `stat` alone.
struct ManifestStamp: Equatable {
    var path: String
    var size: Int64
    var mtimeNs: Int64
    var inode: Int64?
    /// Read for `--checksum` only.
    var md5: String? = nil
    var ctimeNs: Int64? = nil

    /// Same size, same modification time and, when both are known, the same inode.
    func matches(_ file: LocalFile) -> Bool {
        guard size == file.size, mtimeNs == file.mtimeNs else { return false }
        guard let inode, let other = file.inode else { return true }
        return inode == other
    }

    /// `--checksum`'s cache hit: all of the above and the same status-change time, both known.
    func cachesHash(of file: LocalFile) -> Bool {
        guard matches(file), md5 != nil, let ctimeNs, let other = file.ctimeNs else { return false }
        return ctimeNs == other
    }
}

/// The manifest read forward in path byte order, one row held at a time. Ask for paths in
/// increasing byte order (a ``SortedWalk``'s order): each row is read once.
final class ManifestStamps {
    private let rows: RowCursor
    private var current: ManifestStamp?
    private var started = false

    init(rows: RowCursor) {
        self.rows = rows
    }

    /// The stamp of `path`, skipping the rows before it (files gone since the last sync).
    func stamp(for path: String) throws -> ManifestStamp? {
        if !started {
            started = true
            current = try readNext()
        }
        while let stamp = current, stamp.path.utf8.lexicographicallyPrecedes(path.utf8) {
            current = try readNext()
        }
        guard let stamp = current, stamp.path.utf8.elementsEqual(path.utf8) else { return nil }
        return stamp
    }

    private func readNext() throws -> ManifestStamp? {
        guard let row = try rows.next() else { return nil }
        var stamp = ManifestStamp(path: row[0], size: row[1], mtimeNs: row[2], inode: row[3])
        if row.count > 4 {
            stamp.md5 = row[4]
            stamp.ctimeNs = row[5]
        }
        return stamp
    }
}
