import AssetServer
import AssetSync
import Crypto
import Foundation
import Logging
import PixieBrix
import Transfer

/// A fresh local server with one asset database, and a client for it.
public struct Fixture: Sendable {
    public let server: RunningAssetServer
    public let client: PixieBrixClient
    public let database: String
    public let scratch: Scratch

    public func store(_ name: String = "state.sqlite") throws -> StateStore {
        try StateStore.open(path: scratch.path(name))
    }

    public func pusher(_ folder: String, store: StateStore, options: PushOptions = PushOptions()) -> Pusher {
        Pusher(folder: folder, database: database, client: client, store: store, options: options)
    }

    public func puller(_ folder: String, store: StateStore, options: PullOptions = PullOptions()) -> Puller {
        Puller(folder: folder, database: database, client: client, store: store, options: options)
    }

    /// Uploaded assets by filename.
    public func uploadedAssets() async throws -> [String: [Asset]] {
        Dictionary(grouping: try await client.assets(database: database).filter(\.isUploaded), by: \.filename)
    }
}

/// Runs `body` against a new in-process server on a loopback port; `faults` are switched on once
/// the database exists. Blobs go to `blobs`, by default files, or S3 when `ASSETS_TEST_BLOBS=s3` (see ``TestS3``).
public func withFixture<R: Sendable>(faults: String? = nil, serverLog: LogCapture? = nil,
                                      blobs: BlobsConfiguration? = nil,
                                      _ body: (Fixture) async throws -> R) async throws -> R {
    let scratch = try Scratch()
    defer { scratch.remove() }
    var configuration = AssetServerConfiguration(dataDirectory: scratch.path("server"), port: 0)
    configuration.blobs = try await testBlobs(blobs)
    configuration.metadata = try TestMetadata.location(forDataDirectory: configuration.dataDirectory)
    return try await withAssetServer(configuration, logger: serverLog?.logger ?? Logger(label: "assets.server", factory: { _ in SwiftLogNoOpLogHandler() })) { server in
        try await withTransferEngine { engine in
            let client = try PixieBrixClient(baseURL: server.url, token: APIToken(server.token)!, engine: engine)
            let database = try await client.createDatabase(name: "test-\(UUID().uuidString.prefix(8))")
            if let faults { try await setFaults(faults, server: server, engine: engine) }
            return try await body(Fixture(server: server, client: client, database: database.id, scratch: scratch))
        }
    }
}

/// `blobs`, or the blob store `ASSETS_TEST_BLOBS` asks for: S3 (moto) under a fresh prefix, or files.
public func testBlobs(_ blobs: BlobsConfiguration? = nil) async throws -> BlobsConfiguration {
    if let blobs { return blobs }
    return TestS3.isDefaultBlobStore ? .s3(try await TestS3.location()) : .file
}

/// Replaces the server's fault-injection spec through its admin route.
public func setFaults(_ spec: String, server: RunningAssetServer, engine: TransferEngine) async throws {
    try await admin("faults", ["spec": spec], server: server, engine: engine)
}

/// Shifts the server's clock (presigned URLs expire against it).
public func advanceClock(seconds: Int, fixture: Fixture) async throws {
    try await withTransferEngine { engine in
        try await admin("clock", ["advance": seconds], server: fixture.server, engine: engine)
    }
}

/// Calls one of the server's `/_admin/` routes with a JSON body.
public func admin(_ route: String, _ body: [String: Any], server: RunningAssetServer, engine: TransferEngine) async throws {
    let data = try JSONSerialization.data(withJSONObject: body)
    let request = HTTPRequest(method: .post, url: server.url.appendingPathComponent("_admin/\(route)/"),
                              headers: ["Authorization": "Token \(server.token)", "Content-Type": "application/json"],
                              body: .data(data))
    try await engine.perform(request).validate()
}

/// A temporary folder removed at the end of a test.
public final class Scratch: Sendable {
    public let root: String

    public init() throws {
        root = NSTemporaryDirectory() + "assets-test-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    public func path(_ relative: String) -> String { root + "/" + relative }

    public func folder(_ relative: String) throws -> String {
        let path = path(relative)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// Deterministic bytes: the same seed always gives the same content.
public func pseudoRandomBytes(_ count: Int, seed: UInt64) -> Data {
    var generator = SeededGenerator(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        let word = generator.next()
        for shift in stride(from: 0, to: 64, by: 8) where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word >> UInt64(shift))
            index += 1
        }
    }
    return Data(bytes)
}

public func write(_ data: Data, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: path))
}

/// Every regular file under `root` (relative path → SHA-256), dotfiles included.
public func treeDigest(_ root: String) throws -> [String: String] {
    var result: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        var isFolder: ObjCBool = false
        FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isFolder)
        if isFolder.boolValue { continue }
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
        result[relative] = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
    return result
}

/// The tricky tree of the issue: nested folders, unicode, spaces, an empty file, 20 MB, many small files.
public func makeTrickyTree(at root: String, smallFiles: Int) throws -> [String: String] {
    try write(Data(), to: root + "/empty.bin")
    try write(pseudoRandomBytes(20_000_000, seed: 1), to: root + "/big/twenty megabytes.bin")
    try write(Data("héllo wörld 日本語\n".utf8), to: root + "/ünïcödé/naïve café.txt")
    try write(Data("spaces\n".utf8), to: root + "/with spaces/a file with spaces.txt")
    try write(Data("deep\n".utf8), to: root + "/a/b/c/d/e/deep.txt")
    for index in 0..<smallFiles {
        try write(pseudoRandomBytes(100 + index % 900, seed: UInt64(1000 + index)),
                  to: root + "/small/\(index / 100)/file-\(index).dat")
    }
    return try treeDigest(root)
}

/// A small deterministic random source, so a failing run can be replayed.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
