#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Walks a folder and hands over its regular files in the byte order of their relative paths,
/// the order of SQLite's `ORDER BY path`, so that a caller can merge the walk with a manifest read
/// in the same order without holding either in memory.
///
/// Each folder is opened relative to its parent's descriptor (`openat` with `O_NOFOLLOW`), listed
/// with `readdir` (batched `getdents64` underneath) and its files `fstatat`-ed relative to it; names
/// live in one reused byte buffer per depth. Memory grows with the depth and the widest folder,
/// not with the number of files.
///
/// Sorting a folder's entries with a `/` after each subfolder's name makes a depth-first walk
/// yield full paths in byte order: `a-c` (`-` is 0x2D) comes before `a/x` (`/` is 0x2F).
struct SortedWalk {
    let root: String
    var rules: IgnoreRules

    struct Outcome {
        var problems: [ScanProblem] = []
        /// Links not followed, relative to the root, with why (one each: the push reports each once).
        var skippedLinks: [ScanProblem] = []
    }

    /// What the walk does with one directory entry: the one place that decides to skip a link.
    enum EntryKind {
        case folder, file, symbolicLink, other

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFDIR: self = .folder
            case S_IFREG: self = .file
            case S_IFLNK: self = .symbolicLink
            default: self = .other
            }
        }
    }

    /// One folder's entries: names NUL-terminated in `bytes`, sorted through `order`.
    private final class Listing {
        var bytes: [UInt8] = []
        var starts: [Int32] = []
        var lengths: [Int32] = []
        var isFolder: [Bool] = []
        /// Entries whose `d_type` was `DT_UNKNOWN`.
        var unknownType: [Int32] = []
        var order: [Int32] = []

        func reset() {
            bytes.removeAll(keepingCapacity: true)
            starts.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
            isFolder.removeAll(keepingCapacity: true)
            unknownType.removeAll(keepingCapacity: true)
            order.removeAll(keepingCapacity: true)
        }
    }

    private struct State {
        var listings: [Listing] = []
        /// The relative path of the folder being listed, with a trailing `/` (empty at the root).
        var prefix: [UInt8] = []
        var outcome = Outcome()
        var rules: IgnoreRules
    }

    /// Calls `visit` with each regular file that the rules keep, in path byte order.
    func run(_ visit: (LocalFile) throws -> Void) throws -> Outcome {
        var rootStat = Glibc.stat()
        guard lstat(root, &rootStat) == 0, EntryKind(mode: rootStat.st_mode) == .folder else {
            throw SyncError(kind: .localFolder, message: "\(root) is not a folder")
        }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw SyncError(kind: .localFolder, message: "cannot read \(root): \(String(cString: strerror(errno)))")
        }
        var state = State(rules: rules)
        try walk(folder: fd, depth: 0, state: &state, visit)
        return state.outcome
    }

    /// Lists `folder` (closing it), then visits its entries in order, descending into subfolders.
    private func walk(folder fd: Int32, depth: Int, state: inout State, _ visit: (LocalFile) throws -> Void) throws {
        guard let dir = fdopendir(fd) else {
            close(fd)
            state.outcome.problems.append(ScanProblem(path: Self.display(state.prefix),
                                                      reason: "cannot read folder: \(String(cString: strerror(errno)))"))
            return
        }
        defer { closedir(dir) }
        if state.listings.count <= depth { state.listings.append(Listing()) }
        let listing = state.listings[depth]
        listing.reset()
        var invalidNames = 0
        while let entry = readdir(dir) {
            let added = withUnsafeBytes(of: entry.pointee.d_name) { raw -> Bool in
                let name = raw.prefix { $0 != 0 }
                if name.count <= 2 && name.allSatisfy({ $0 == UInt8(ascii: ".") }) { return true }
                guard Self.isValidUTF8(name) else { return false }
                listing.starts.append(Int32(listing.bytes.count))
                listing.lengths.append(Int32(name.count))
                listing.bytes.append(contentsOf: name)
                listing.bytes.append(0)
                return true
            }
            if !added { invalidNames += 1; continue }
            if listing.starts.count > listing.isFolder.count {
                let type = entry.pointee.d_type
                if type == UInt8(DT_UNKNOWN) { listing.unknownType.append(Int32(listing.isFolder.count)) }
                listing.isFolder.append(type == UInt8(DT_DIR))
            }
        }
        if invalidNames > 0 {
            state.outcome.problems.append(ScanProblem(path: state.prefix.isEmpty ? "." : Self.display(state.prefix),
                                                      reason: "\(invalidNames) name(s) are not valid UTF-8 and were skipped"))
        }
        let count = listing.starts.count
        // d_type is DT_UNKNOWN on some file systems: ask fstatat which entries are folders.
        for unknown in listing.unknownType {
            let index = Int(unknown)
            var info = Glibc.stat()
            let start = Int(listing.starts[index])
            let status = listing.bytes.withUnsafeBufferPointer { bytes in
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    fstatat(dirfd(dir), $0 + start, &info, AT_SYMLINK_NOFOLLOW)
                }
            }
            if status == 0 && EntryKind(mode: info.st_mode) == .folder { listing.isFolder[index] = true }
        }
        try readIgnoreFile(listing: listing, dir: dir, state: &state)
        listing.order.append(contentsOf: 0..<Int32(count))
        listing.bytes.withUnsafeBufferPointer { bytes in
            listing.order.sort { Self.precedes(bytes, listing, Int($0), Int($1)) }
        }
        for position in 0..<count {
            let index = Int(listing.order[position])
            try visitEntry(index, listing: listing, dir: dir, depth: depth, state: &state, visit)
        }
    }

    private func visitEntry(_ index: Int, listing: Listing, dir: OpaquePointer, depth: Int, state: inout State,
                            _ visit: (LocalFile) throws -> Void) throws {
        let start = Int(listing.starts[index])
        let length = Int(listing.lengths[index])
        let nameBytes = listing.bytes[start..<start + length]
        let prefixLength = state.prefix.count
        state.prefix.append(contentsOf: nameBytes)
        defer { state.prefix.removeSubrange(prefixLength...) }
        var info = Glibc.stat()
        let status = listing.bytes.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                fstatat(dirfd(dir), $0 + start, &info, AT_SYMLINK_NOFOLLOW)
            }
        }
        guard status == 0 else {
            state.outcome.problems.append(ScanProblem(path: Self.display(state.prefix), reason: String(cString: strerror(errno))))
            return
        }
        let hidden = nameBytes.first == UInt8(ascii: ".")
        switch EntryKind(mode: info.st_mode) {
        case .folder:
            if hidden { return }
            if !state.rules.decidesByNameAlone && state.rules.ignoresFolder(Self.display(state.prefix)) { return }
            let child = listing.bytes.withUnsafeBufferPointer { bytes in
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    openat(dirfd(dir), $0 + start, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                }
            }
            guard child >= 0 else {
                // Swapped for a link after the listing (O_NOFOLLOW refuses it): skipped like any link.
                if errno == ELOOP || errno == ENOTDIR {
                    state.outcome.skippedLinks.append(ScanProblem(path: Self.display(state.prefix),
                                                                  reason: LocalScanner.replacedFolder))
                    return
                }
                state.outcome.problems.append(ScanProblem(path: Self.display(state.prefix),
                                                          reason: "cannot read folder: \(String(cString: strerror(errno)))"))
                return
            }
            state.prefix.append(UInt8(ascii: "/"))
            try walk(folder: child, depth: depth + 1, state: &state, visit)
        case .file:
            if hidden || Self.hasPartSuffix(nameBytes) { return }
            let path = Self.display(state.prefix)
            if !state.rules.decidesByNameAlone && state.rules.ignoresFile(path) { return }
            try visit(LocalFile(path: path, stat: info))
        case .symbolicLink:
            // Not followed: a link could lead out of the folder or into a loop (`--follow-symlinks`
            // plans with ``LocalScanner`` instead). Each is reported once.
            if hidden || Self.hasPartSuffix(nameBytes) { return }
            let path = Self.display(state.prefix)
            if state.rules.decidesByNameAlone || !state.rules.ignoresFile(path) {
                state.outcome.skippedLinks.append(ScanProblem(path: path, reason: "a symbolic link; not followed"))
            }
        case .other:
            return
        }
    }

    /// Reads the folder's `.assetsignore`, if any, into the rules before its entries are judged.
    private func readIgnoreFile(listing: Listing, dir: OpaquePointer, state: inout State) throws {
        let wanted = Array(IgnoreRules.fileName.utf8)
        for index in 0..<listing.starts.count where Int(listing.lengths[index]) == wanted.count {
            let start = Int(listing.starts[index])
            guard listing.bytes[start..<start + wanted.count].elementsEqual(wanted) else { continue }
            let fd = openat(dirfd(dir), IgnoreRules.fileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            guard let data = try? handle.readToEnd(), let contents = String(data: data, encoding: .utf8) else { return }
            var folder = state.prefix
            if folder.last == UInt8(ascii: "/") { folder.removeLast() }
            state.rules.addIgnoreFile(contents: contents, folder: Self.display(folder))
            return
        }
    }

    /// Checks without building a String (one per entry would be the walk's only allocation).
    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer.SubSequence) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private static func hasPartSuffix(_ name: ArraySlice<UInt8>) -> Bool {
        name.count >= 5 && name.suffix(5).elementsEqual(".part".utf8)
    }

    private static func display(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Byte order of the names, each subfolder's name read with a `/` after it.
    private static func precedes(_ bytes: UnsafeBufferPointer<UInt8>, _ listing: Listing, _ a: Int, _ b: Int) -> Bool {
        let aStart = Int(listing.starts[a]), aLength = Int(listing.lengths[a])
        let bStart = Int(listing.starts[b]), bLength = Int(listing.lengths[b])
        let common = min(aLength, bLength)
        let order = memcmp(bytes.baseAddress! + aStart, bytes.baseAddress! + bStart, common)
        if order != 0 { return order < 0 }
        if aLength == bLength { return false }
        // One name is a prefix of the other: what follows it is its `/` (a folder) or the end (a file).
        if aLength < bLength {
            let next = bytes[bStart + common]
            return listing.isFolder[a] ? UInt8(ascii: "/") < next : true
        }
        let next = bytes[aStart + common]
        return listing.isFolder[b] ? next < UInt8(ascii: "/") : false
    }
}
