import Crypto
import Foundation
import PixieBrix
import Testing
import TestSupport

@testable import AssetSync

/// Regression guards for the fast paths: a no-op push merges a sorted walk with the manifest
/// without per-file state, and a pull hashes each byte once, as it is written.
@Suite("performance guards", .serialized)
struct PerformanceGuardTests {
    @Test("a no-op plan matches every file by size, mtime and inode, whatever the byte order of the names")
    func noOpPlanMerge() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("merge")
            let names = ["a.txt", "a-c.txt", "a/x.txt", "a/b/y.txt", "a0.txt", "b.txt", "A.txt", "\u{e9}.txt", "a b/z.txt"]
            for (index, name) in names.enumerated() {
                try write(Data("file \(index)\n".utf8), to: source + "/" + name)
            }
            try write(Data("hidden".utf8), to: source + "/z/.hidden")
            try write(Data("partial".utf8), to: source + "/c.part")
            let store = try fixture.store()
            try store.saveManifest(try names.map { try manifestEntry(source, $0) })

            let unchanged = try await fixture.pusher(source, store: store).plan()
            #expect(unchanged.uploads.isEmpty)
            #expect(unchanged.unchanged == names.count)

            // A newer mtime, and a file replaced by another of the same size and mtime (a new inode).
            try setModificationTime(source + "/a/x.txt", seconds: 1_700_000_000)
            let replaced = source + "/b.txt"
            let before = try stamp(replaced)
            try write(Data("file 9\n".utf8), to: source + "/b.new")
            try setModificationTime(source + "/b.new", nanoseconds: before.mtimeNs)
            #expect(rename(source + "/b.new", replaced) == 0)
            let after = try stamp(replaced)
            try #require(after.inode != before.inode && after.size == before.size && after.mtimeNs == before.mtimeNs,
                         "the replacement could not be arranged with the same size and mtime")

            let changed = try await fixture.pusher(source, store: store).plan()
            #expect(changed.uploads.map(\.path).sorted() == ["a/x.txt", "b.txt"])
            #expect(changed.unchanged == names.count - 2)
        }
    }

    @Test("a no-op plan holds no per-file state: peak memory grows by less than 6 MiB from 10,000 to 50,000 files")
    func noOpPlanMemoryIsFlat() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("many")
            let store = try fixture.store()
            let pusher = fixture.pusher(source, store: store)
            var created = 0
            // Files and manifest rows made directly (creat, one prepared INSERT): the test measures the plan.
            func grow(to count: Int) throws {
                try store.pool.write { db in
                    let insert = try db.makeStatement(sql: """
                        INSERT INTO manifest(path, size, mtime_ns, md5, sha256, asset_id, etag, synced_at, inode)
                        VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)
                        """)
                    while created < count {
                        if created < 50 { try FileManager.default.createDirectory(atPath: source + "/d\(created)",
                                                                                  withIntermediateDirectories: true) }
                        let name = "d\(created % 50)/file-\(created).bin"
                        let fd = creat(source + "/" + name, 0o644)
                        guard fd >= 0, close(fd) == 0 else { throw CocoaError(.fileWriteUnknown) }
                        let status = try stamp(source + "/" + name)
                        try insert.execute(arguments: [name, status.size, status.mtimeNs, String(repeating: "0", count: 32),
                                                       String(repeating: "1", count: 64), UUID().uuidString, Date(),
                                                       status.inode])
                        created += 1
                    }
                }
            }
            try grow(to: 10_000)
            let small = try await peakGrowth { try await pusher.plan() }
            try grow(to: 50_000)
            let large = try await peakGrowth { try await pusher.plan() }
            #expect(small.result.unchanged == 10_000 && small.result.uploads.isEmpty)
            #expect(large.result.unchanged == 50_000 && large.result.uploads.isEmpty)
            #expect(large.bytes - small.bytes < 6 << 20,
                    "peak RSS grew \(small.bytes >> 10) KiB at 10,000 files, \(large.bytes >> 10) KiB at 50,000")
        }
    }

    @Test("a pull's digest is taken from the bytes as they are written; a resumed one reads the kept prefix once")
    func downloadDigestSeesEachByteOnce() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("one")
            let data = pseudoRandomBytes(3 << 20 + 12345, seed: 42)
            try write(data, to: source + "/big.bin")
            let pushed = try await fixture.pusher(source, store: try fixture.store()).push()
            try #require(pushed.done == 1)
            let asset = try #require(try await fixture.uploadedAssets()["big.bin"]?.first)
            let expectedMD5 = hex(Insecure.MD5.hash(data: data))
            let expectedSHA = hex(SHA256.hash(data: data))

            let fresh = fixture.scratch.path("fresh.part")
            let digest = StreamDigest(path: fresh, sha256: false)
            let location = try await fixture.client.downloadLocation(database: fixture.database, id: asset.id)
            _ = try await fixture.client.download(from: location, to: fresh, resume: true, observer: digest)
            let streamed = try #require(digest.finish())
            #expect(streamed == StreamDigest.Result(md5: expectedMD5, sha256: nil, size: Int64(data.count),
                                                      bytesReadFromDisk: 0))

            let resumed = fixture.scratch.path("resumed.part")
            let kept = (1 << 20) + 3
            try write(data.prefix(kept), to: resumed)
            let both = StreamDigest(path: resumed, sha256: true)
            let again = try await fixture.client.downloadLocation(database: fixture.database, id: asset.id)
            let response = try await fixture.client.download(from: again, to: resumed, resume: true, observer: both)
            #expect(response.outcome == .appended && response.resumedFrom == Int64(kept))
            let result = try #require(both.finish())
            #expect(result == StreamDigest.Result(md5: expectedMD5, sha256: expectedSHA, size: Int64(data.count),
                                                    bytesReadFromDisk: Int64(kept)))
        }
    }
}

private func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    digest.map { String(format: "%02x", $0) }.joined()
}

private func stamp(_ path: String) throws -> (size: Int64, mtimeNs: Int64, inode: Int64) {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile) }
    return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            Int64(bitPattern: UInt64(info.st_ino)))
}

private func manifestEntry(_ root: String, _ name: String) throws -> ManifestEntry {
    let status = try stamp(root + "/" + name)
    return ManifestEntry(path: name, size: status.size, mtimeNs: status.mtimeNs, md5: String(repeating: "0", count: 32),
                         sha256: String(repeating: "1", count: 64), assetId: UUID().uuidString, etag: nil,
                         syncedAt: Date(), inode: status.inode)
}

private func setModificationTime(_ path: String, seconds: Int) throws {
    try setModificationTime(path, nanoseconds: Int64(seconds) * 1_000_000_000)
}

private func setModificationTime(_ path: String, nanoseconds: Int64) throws {
    let time = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var times = [time, time]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw CocoaError(.fileWriteUnknown) }
}

/// Runs `body` with the process's peak RSS reset first (`/proc/self/clear_refs`), and returns how far
/// the peak rose above the resident size before it.
private func peakGrowth<T>(_ body: () async throws -> T) async throws -> (result: T, bytes: Int) {
    let before = try statusField("VmRSS")
    guard let reset = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else {
        throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: "/proc/self/clear_refs"])
    }
    try reset.write(contentsOf: Data("5".utf8))
    try reset.close()
    let result = try await body()
    return (result, try statusField("VmHWM") - before)
}

/// A `kB` field of `/proc/self/status`, in bytes.
private func statusField(_ name: String) throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
        if let kilobytes = Int(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") { return kilobytes << 10 }
    }
    throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: "/proc/self/status: \(name)"])
}
