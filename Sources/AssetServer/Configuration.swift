import Foundation

/// How to run the local server.
public struct AssetServerConfiguration: Sendable {
    /// Where SQLite and the blobs live; created if missing.
    public var dataDirectory: String
    /// The address to listen on.
    public var host: String
    /// The port to listen on; `0` picks a free one.
    public var port: Int
    /// The API token; nil loads the one saved in `dataDirectory`, or generates and saves one.
    public var token: String?
    /// A fault-injection spec, e.g. `rate429=0.05,rate500=0.02,reset=0.01,latency=20ms,seed=7`.
    public var faults: String?
    /// Request size limits.
    public var limits = Limits()
    /// The base URL put in links (asset `download_url`, presigned URLs, `Link` headers, `Location`), e.g.
    /// `https://assets.example.org` behind a proxy; nil means the listening address (`127.0.0.1` for a
    /// wildcard address). Never the request's `Host` header: a client could point links anywhere with it.
    public var publicURL: String?
    /// Where asset bytes, exports and archives live: files under `dataDirectory` (default) or an S3 bucket.
    public var blobs: BlobsConfiguration = .file
    /// Where metadata lives: SQLite in `dataDirectory` (one process), or PostgreSQL shared by replicas that
    /// also share `dataDirectory` (blobs, temporary files).
    public var metadata: MetadataLocation = .sqlite
    /// How long an export job stays with the replica running it without a renewal (renewed every third of it);
    /// past that another replica takes it over (PostgreSQL only).
    public var exportLease: Duration = .seconds(30)
    /// How often a replica looks for export jobs to take over (PostgreSQL only).
    public var exportSweepInterval: Duration = .seconds(1)
    /// A pause after each batch of records an export writes: for tests that need a job still running.
    public var exportBatchPause: Duration = .zero
    /// How often the nightly archiving pass runs (once per interval across replicas); tests shorten it.
    public var archiveInterval: Duration = .seconds(3600)
    /// How long a replica holds its claim of an archiving pass open before it commits: for tests that need two
    /// replicas claiming at the same moment.
    public var archiveClaimPause: Duration = .zero

    public struct Limits: Sendable {
        /// Largest JSON body of an API request.
        public var maxJSONBody = 1 << 20
        /// Largest JSON body of an admin request (record seeding).
        public var maxAdminBody = 256 << 20
        /// Largest file a presigned POST accepts (the policy's `content-length-range`).
        public var maxUploadSize: Int64 = 5 << 30
        /// Live records a database keeps before archiving moves its oldest dates out (the vendor's 500,000).
        public var maxLiveRecords = 500_000
        /// Most sheet XML an XLSX export may hold before it is refused; nil for no limit. The workbook is a zip64
        /// archive once its sheet passes 4 GiB, so the format sets no limit; this one is the operator's.
        public var maxXLSXBytes: UInt64? = nil
        /// Connections served at once; more are closed as soon as they open.
        public var maxConnections = 512
        /// A request body must bring at least `minBodyBytes` every `bodyWindow`, or it is refused (`408`).
        public var minBodyBytes = 1024
        public var bodyWindow: Duration = .seconds(60)

        public init() {}
    }

    public init(
        dataDirectory: String, host: String = "127.0.0.1", port: Int = 8710, token: String? = nil,
        faults: String? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.token = token
        self.faults = faults
    }
}
