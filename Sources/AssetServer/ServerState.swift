import WireFormat
import Crypto
import Foundation
import Logging

/// Everything a request handler needs, shared by all requests.
final class ServerState: Sendable {
    let store: Store
    let clock = ServerClock()
    let faults: FaultInjector
    /// Signs and checks links of the emulated storage (`/_storage/`), which serves the `file` blob store.
    let signer: Signer
    let blobs: any BlobStore
    let organizationID: String
    let mainToken: String
    let limits: AssetServerConfiguration.Limits
    let exports: ExportRunner
    let logger: Logger
    let connections: ConnectionCounter
    let leases: ExportLeases
    /// Pause after each batch of an export (tests: a job slow enough to kill its replica mid-way).
    let exportBatchPause: Duration
    /// Whether other replicas share the metadata (PostgreSQL): the clock offset is read from it, jobs are swept.
    let isShared: Bool
    private let links: LinkBase

    init(configuration: AssetServerConfiguration, logger: Logger) async throws {
        let spec = try FaultSpec(parsing: configuration.faults ?? "")
        isShared = configuration.metadata != .sqlite
        store = try await Store.open(
            dataDirectory: configuration.dataDirectory, metadata: configuration.metadata,
            clearTemporaryFiles: !isShared, logger: logger)
        do {
            // In the metadata, so that replicas share the organization, the token and the signing secret.
            organizationID = try await store.setting("organization_id") { Identifier.make() }
            let savedToken = try await store.setting("token") { Identifier.randomHex(bytes: 20) }
            mainToken = configuration.token ?? savedToken
            signer = Signer(secretHex: try await store.setting("storage_secret") { Identifier.randomHex(bytes: 32) })
            if isShared {
                // Another replica may be running any unfinished job: those whose lease runs out are swept.
            } else {
                try await store.failInterruptedExports()
            }
        } catch {
            await store.db.close()
            throw error
        }
        faults = FaultInjector(spec: spec)
        limits = configuration.limits
        self.logger = logger
        exports = ExportRunner()
        connections = ConnectionCounter(limit: configuration.limits.maxConnections)
        links = LinkBase(configured: configuration.publicURL)
        switch configuration.blobs {
        case .file: blobs = FileBlobStore(store: store, signer: signer, links: links)
        case .s3(let location): blobs = S3BlobStore(location: location)
        }
        leases = ExportLeases(duration: configuration.exportLease)
        exportBatchPause = configuration.exportBatchPause
        await refreshClock()
    }

    /// With shared metadata, takes the clock offset another replica may have moved (``ClockFollower`` calls it
    /// every 200 ms; `POST /_admin/clock` reads and writes the database itself).
    func refreshClock() async {
        guard isShared else { return }
        do {
            let text = try await store.setting("clock_offset") ?? "0"
            guard let offset = Micros(text) else { throw SQLRowError(column: "meta.clock_offset", problem: text) }
            clock.setOffset(offset)
        } catch {
            logger.error("clock offset unreadable", metadata: ["error": "\(error)"])
        }
    }

    /// Moves the clock by `seconds` (for every replica, with shared metadata); false when the step is refused.
    func advanceClock(seconds: Double) async throws -> Bool {
        guard isShared else { return clock.advance(seconds: seconds) }
        let next = try await store.db.transaction { db -> Micros? in
            try await db.execute("INSERT INTO meta (key, value) VALUES ('clock_offset', '0') ON CONFLICT (key) DO NOTHING")
            let row = try await db.row("SELECT value FROM meta WHERE key = 'clock_offset' \(db.dialect.forUpdate)")
            guard let text = try row?.string("value"), let current = Micros(text) else {
                throw SQLRowError(column: "meta.clock_offset", problem: "unreadable")
            }
            guard let next = ServerClock.offset(current, advancedBy: seconds) else { return nil }
            try await db.execute("UPDATE meta SET value = ? WHERE key = 'clock_offset'", String(next))
            return next
        }
        guard let next else { return false }
        clock.setOffset(next)
        return true
    }

    /// `scheme://host:port` that links start with: `--public-url`, or the address the server listens on.
    var linkBase: String { links.value }

    /// Fixes ``linkBase`` once the port is known (before the first request is accepted).
    func listening(host: String, port: Int) {
        links.set(links.configured ?? Self.listeningBase(host: host, port: port))
    }

    /// `http://host:port` for a listening address; a wildcard address is reached through loopback.
    static func listeningBase(host: String, port: Int) -> String {
        let reachable = switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "::1"
        default: host
        }
        let bracketed = reachable.contains(":") && !reachable.hasPrefix("[") ? "[\(reachable)]" : reachable
        return "http://\(bracketed):\(port)"
    }
}

/// Who is calling: the main token sees every database; a token from `POST /_admin/tokens` only its own.
enum Principal: Sendable {
    case main
    case token(id: String)

    /// The owner recorded on what this principal creates.
    var owner: String? {
        switch self {
        case .main: nil
        case .token(let id): id
        }
    }

    func canAccess(owner databaseOwner: String?) -> Bool {
        switch self {
        case .main: true
        case .token(let id): databaseOwner == id
        }
    }
}

extension ServerState {
    /// Checks `Authorization: Token <token>`; the main token by constant-time comparison, others by digest.
    func authenticate(_ header: String?) async throws(APIError) -> Principal {
        guard let header, !header.isEmpty else {
            throw APIError.unauthenticated("Authentication credentials were not provided.")
        }
        // DRF's TokenAuthentication: the keyword is case-insensitive; another scheme is no credentials at all.
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard let scheme = parts.first, scheme.lowercased() == "token" else {
            throw APIError.unauthenticated("Authentication credentials were not provided.")
        }
        guard parts.count == 2 else {
            throw APIError.unauthenticated(
                parts.count == 1
                    ? "Invalid token header. No credentials provided."
                    : "Invalid token header. Token string should not contain spaces.")
        }
        let presented = String(parts[1])
        if constantTimeEqual(presented, mainToken) { return .main }
        guard let id = try? await store.tokenID(digest: Self.digest(presented)) else {
            throw APIError.unauthenticated("Invalid token.")
        }
        return .token(id: id)
    }

    static func digest(_ token: String) -> String { SHA256.hash(data: Array(token.utf8)).hexString }
}

extension APIError {
    static func unauthenticated(_ message: String) -> APIError {
        var error = APIError.detail(.unauthorized, message)
        error.headers[.pbWWWAuthenticate] = "Token"
        return error
    }
}

/// The base of links, known once the server listens.
final class LinkBase: @unchecked Sendable {
    // NSLock guards `base`, set once before the first request and read by every request after.
    private let lock = NSLock()
    private var base = "http://127.0.0.1"
    /// `--public-url` without trailing slashes.
    let configured: String?

    init(configured: String?) {
        self.configured = configured.map { url in
            var trimmed = url
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            return trimmed
        }
    }

    var value: String { lock.withLock { base } }
    func set(_ value: String) { lock.withLock { base = value } }
}
