#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PixieBrix

public struct CheckOptions: Sendable {
    public var include: [String] = []
    public var exclude: [String] = []
    /// Download each remote file and hash its bytes instead of trusting storage's `ETag` (or the manifest).
    public var download = false
    /// Only local → remote: files uploaded in the database but absent from the folder are not reported.
    public var oneWay = false
    /// Files compared at once.
    public var transfers = 8

    public init() {}
}

/// Compares a folder with the newest uploaded asset of each filename, by size and MD5, as rclone's `check` does.
///
/// The remote MD5 is storage's `ETag`, read with a `Range: bytes=0-0` `GET` of the download, or taken from the
/// manifest when its entry is current on both sides (same asset, same size, time and inode); with
/// ``CheckOptions/download`` the remote bytes are streamed and hashed instead. Both sides go through the push's
/// ignore rules (`.assetsignore`, include/exclude, dotfiles). Nothing is written, locally or remotely.
public struct FolderCheck: Sendable {
    public let folder: String
    public let database: String
    public let client: PixieBrixClient
    /// The folder's state file when one exists: its manifest saves requests and hashing.
    public let store: StateStore?
    public var options: CheckOptions

    public init(folder: String, database: String, client: PixieBrixClient, store: StateStore?,
                options: CheckOptions = CheckOptions()) {
        self.folder = folder
        self.database = database
        self.client = client
        self.store = store
        self.options = options
    }

    public func run() async throws -> CheckReport {
        var alwaysIgnored: Set<String> = []
        if let store {
            let statePath = URL(fileURLWithPath: store.path).standardizedFileURL.path
            let root = URL(fileURLWithPath: folder).standardizedFileURL.path + "/"
            if statePath.hasPrefix(root) {
                let relative = String(statePath.dropFirst(root.count))
                alwaysIgnored = [relative, relative + "-wal", relative + "-shm", relative + ".lock"]
            }
        }
        let scan = try LocalScanner(root: folder, rules: IgnoreRules(include: options.include, exclude: options.exclude,
                                                                     alwaysIgnored: alwaysIgnored)).scan()
        var entries: [CheckReport.Entry] = scan.problems.map { .init(path: $0.path, outcome: .error, detail: $0.reason) }
        let local = Dictionary(scan.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })

        var newest: [String: Asset] = [:]
        var unsafeNames: [String: String] = [:]
        try await client.assets(database: database) { page in
            for asset in page where asset.isUploaded {
                switch RemotePath.localPath(for: asset.filename) {
                case .failure(let error):
                    unsafeNames[asset.filename] = error.description
                case .success(let path):
                    if Self.ignores(path, rules: scan.rules) { continue }
                    if let known = newest[path], known.createdAt >= asset.createdAt { continue }
                    newest[path] = asset
                }
            }
        }
        if !options.oneWay {
            entries += unsafeNames.map { .init(path: $0.key, outcome: .error, detail: $0.value) }
            for (path, _) in newest where local[path] == nil {
                entries.append(.init(path: path, outcome: .onlyRemote, detail: nil))
            }
        }
        var pairs: [(LocalFile, Asset)] = []
        for (path, file) in local {
            if let asset = newest[path] {
                pairs.append((file, asset))
            } else {
                entries.append(.init(path: path, outcome: .onlyLocal, detail: nil))
            }
        }

        let manifest = try store?.manifest() ?? [:]
        let root = try ConfinedFolder(path: folder, create: false)
        let (client, database, download) = (self.client, self.database, options.download)
        let compared = try await pairs.concurrentCompactMap(limit: options.transfers) { file, asset -> Compared? in
            await Self.compare(file, asset, entry: manifest[file.path], root: root, client: client, database: database,
                               download: download)
        }
        var report = CheckReport()
        for result in compared {
            entries.append(result.entry)
            if result.fromManifest { report.fromManifest += 1 }
            if result.downloaded { report.downloaded += 1 }
        }
        report.entries = entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return report
    }

    /// A remote path is left out as a local one would be: the file itself, or a folder on its way.
    static func ignores(_ path: String, rules: IgnoreRules) -> Bool {
        if rules.ignoresFile(path) { return true }
        var folder = ""
        for segment in path.split(separator: "/").dropLast() {
            folder = folder.isEmpty ? String(segment) : folder + "/" + segment
            if rules.ignoresFolder(folder) { return true }
        }
        return false
    }

    struct Compared: Sendable {
        var entry: CheckReport.Entry
        var fromManifest = false
        var downloaded = false
    }

    /// One file against its asset: the manifest when current, else the remote length and `ETag` (or the
    /// downloaded bytes) against the local length and MD5.
    static func compare(_ file: LocalFile, _ asset: Asset, entry: ManifestEntry?, root: ConfinedFolder,
                        client: PixieBrixClient, database: String, download: Bool) async -> Compared {
        let path = file.path
        let stamp = entry.map { ManifestStamp(path: $0.path, size: $0.size, mtimeNs: $0.mtimeNs, inode: $0.inode) }
        let localIsRecorded = stamp?.matches(file) ?? false
        if !download, localIsRecorded, let entry, entry.assetId == asset.id {
            return Compared(entry: .init(path: path, outcome: .match, detail: nil), fromManifest: true)
        }
        do {
            let location = try await client.downloadLocation(database: database, id: asset.id)
            if download {
                let remote = try await downloadDigest(location, client: client)
                if remote.size != file.size {
                    return Compared(entry: .init(path: path, outcome: .differ,
                                                 detail: "size: local \(file.size), remote \(remote.size)"), downloaded: true)
                }
                let localMD5 = try localIsRecorded ? entry!.md5 : md5(of: path, in: root)
                guard localMD5 == remote.md5 else {
                    var detail = "MD5: local \(localMD5), remote bytes \(remote.md5)"
                    if let etag = remote.etag, etag != remote.md5 { detail += " (storage's ETag says \(etag))" }
                    return Compared(entry: .init(path: path, outcome: .differ, detail: detail), downloaded: true)
                }
                return Compared(entry: .init(path: path, outcome: .match, detail: nil), downloaded: true)
            }
            let remote = try await client.remoteObjectInfo(location)
            if remote.length != file.size {
                return Compared(entry: .init(path: path, outcome: .differ,
                                             detail: "size: local \(file.size), remote \(remote.length)"))
            }
            // An empty object has nothing to differ in (and storage's `416` for its one-byte range carries no ETag).
            if file.size == 0 { return Compared(entry: .init(path: path, outcome: .match, detail: nil)) }
            guard let etag = remote.etag, etag.count == 32, etag.allSatisfy(\.isHexDigit) else {
                return Compared(entry: .init(path: path, outcome: .error,
                                             detail: "storage's ETag is not an MD5; compare with --download"))
            }
            let localMD5 = try localIsRecorded ? entry!.md5 : md5(of: path, in: root)
            guard localMD5 == etag else {
                return Compared(entry: .init(path: path, outcome: .differ, detail: "MD5: local \(localMD5), remote \(etag)"))
            }
            return Compared(entry: .init(path: path, outcome: .match, detail: nil))
        } catch let error as PixieBrixError {
            return Compared(entry: .init(path: path, outcome: .error, detail: error.description))
        } catch let error as SyncError {
            return Compared(entry: .init(path: path, outcome: .error, detail: error.message))
        } catch {
            return Compared(entry: .init(path: path, outcome: .error, detail: "\(error)"))
        }
    }

    /// The local file's MD5, read without following a link.
    static func md5(of path: String, in root: ConfinedFolder) throws -> String {
        let descriptor = try root.openForReading(path)
        defer { close(descriptor) }
        do { return try FileDigest.md5(descriptor: descriptor) } catch {
            throw SyncError(kind: .localFolder, message: "cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// Streams a storage object into an unlinked temporary file, hashing it as it arrives.
    static func downloadDigest(_ location: URL, client: PixieBrixClient) async throws
        -> (size: Int64, md5: String, etag: String?) {
        var template = Array((NSTemporaryDirectory() + "/assets-check-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw SyncError(kind: .localFolder, message: "cannot create a temporary file: \(String(cString: strerror(errno)))")
        }
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        defer { close(descriptor) }
        let hasher = StreamDigest(descriptor: descriptor, sha256: false)
        defer { hasher.stop() }
        let response = try await client.download(from: location, into: descriptor, name: "the remote copy", resume: false,
                                                 observer: hasher)
        let etag = response.etag
        if let digest = hasher.finish() { return (digest.size, digest.md5, etag) }
        let md5 = try FileDigest.md5(descriptor: descriptor)
        var info = stat()
        fstat(descriptor, &info)
        return (Int64(info.st_size), md5, etag)
    }
}
