import Foundation

/// An HTTP method.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let delete = HTTPMethod(rawValue: "DELETE")

    /// Whether repeating the request has the same effect as sending it once (RFC 9110 §9.2.2).
    public var isIdempotent: Bool {
        [.get, .head, .put, .delete].contains(self) || rawValue == "OPTIONS"
    }

    public var description: String { rawValue }
}

/// A `multipart/form-data` body: text fields in the given order, then one file part streamed from disk.
public struct MultipartForm: Sendable {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct FilePart: Sendable {
        /// Where the file part's bytes come from.
        public enum Source: Sendable {
            /// Opened by the engine when the request starts (see ``UploadFile/init(path:)``).
            case path(String)
            /// Opened by the caller: the engine reads this descriptor and never the path.
            case file(UploadFile)
        }

        /// The form field name (S3 presigned POSTs use `file`).
        public var name: String
        /// The filename announced in `Content-Disposition`.
        public var filename: String
        /// The local file whose bytes are streamed; never read into memory as a whole.
        public var source: Source
        public var contentType: String
        /// Sees the file's bytes as they are read to be sent (to hash them on the way out).
        public var observer: (any RequestBodyObserver)?

        public init(name: String = "file", filename: String, path: String,
                    contentType: String = "application/octet-stream") {
            self.init(name: name, filename: filename, source: .path(path), contentType: contentType)
        }

        public init(name: String = "file", filename: String, source: Source,
                    contentType: String = "application/octet-stream", observer: (any RequestBodyObserver)? = nil) {
            self.name = name
            self.filename = filename
            self.source = source
            self.contentType = contentType
            self.observer = observer
        }
    }

    public var fields: [Field]
    public var file: FilePart

    public init(fields: [Field], file: FilePart) {
        self.fields = fields
        self.file = file
    }
}

/// What a request sends as its body.
public enum RequestBody: Sendable {
    case empty
    /// Bytes held in memory (JSON bodies and the like); set `Content-Type` in the headers.
    case data(Data)
    /// A file streamed from disk with a `Content-Length`.
    case file(path: String)
    /// A `multipart/form-data` form whose file part is streamed from disk.
    case multipart(MultipartForm)
}

/// Where the response body goes.
public enum ResponseDestination: Sendable {
    /// Kept in memory, up to `limit` bytes; a longer body fails with ``TransferError/Kind/responseTooLarge``.
    case memory(limit: Int)
    /// Streamed to a file. With `resume`, bytes already in the file are kept and the rest asked
    /// for with `Range`: a `206` appends, a `200` restarts from zero, a `416` means the file is
    /// already complete (or the server has less) and is reported in ``HTTPResponse/status``.
    case file(path: String, resume: Bool)
    /// Streamed into a file the caller already opened for writing (not `O_APPEND`), with the same `Range`
    /// resume as ``file(path:resume:)``; the file is never reopened by name, so a caller that opened it safely
    /// (relative to a folder, with `O_NOFOLLOW`) keeps that guarantee. The engine writes through a `dup` of
    /// `descriptor`; the caller keeps it open until the request returns and closes it. `name` is for messages.
    case openFile(descriptor: Int32, name: String, resume: Bool)

    /// Whether a retry continues from the bytes already in the destination.
    var resumes: Bool {
        switch self {
        case .memory: false
        case .file(_, let resume), .openFile(_, _, let resume): resume
        }
    }

    /// The destination file's name for messages, if the body goes to a file.
    var fileName: String? {
        switch self {
        case .memory: nil
        case .file(let path, _): path
        case .openFile(_, let name, _): name
        }
    }

    /// Bytes already in a destination file (0 when there is none or it is not a regular file).
    func bytesOnDisk() -> Int64 {
        var info = stat()
        switch self {
        case .memory:
            return 0
        case .file(let path, _):
            guard stat(path, &info) == 0 else { return 0 }
        case .openFile(let descriptor, _, _):
            guard fstat(descriptor, &info) == 0 else { return 0 }
        }
        return (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : 0
    }

    /// The default cap on a body held in memory: 16 MiB.
    public static let defaultMemoryLimit = 16 << 20
}

/// One HTTP request and how to carry it out.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: URL
    public var headers: HTTPHeaders
    public var body: RequestBody
    public var destination: ResponseDestination
    /// Follow `3xx` redirects (only to http/https; `Authorization` never goes to another host).
    public var followRedirects: Bool
    public var retry: RetryPolicy
    /// The whole request, retries excluded, must finish within this time.
    public var timeout: Duration?
    /// Caps the transfer rate in bytes per second, in both directions.
    public var bandwidthLimit: Int?
    /// Called from the engine's thread with bytes done and expected; keep it cheap.
    public var progress: (@Sendable (TransferProgress) -> Void)?
    /// For a file destination: the object's size when it is known beforehand (a listed size). A body
    /// that would make the file longer is cut off with ``TransferError/Kind/responseTooLarge(limit:)``,
    /// as is one longer than its own `Content-Length` or `Content-Range` total.
    public var expectedSize: Int64?
    /// Send on a new connection: libcurl silently sends again a request that got no answer on a
    /// reused connection, which a request that must not be repeated blindly (a create) cannot allow.
    public var freshConnection = false
    /// Sees each chunk of a file destination's body as it is written (nil for other destinations' bodies).
    public var bodyObserver: (any ResponseBodyObserver)?

    public init(
        method: HTTPMethod = .get,
        url: URL,
        headers: HTTPHeaders = [:],
        body: RequestBody = .empty,
        destination: ResponseDestination = .memory(limit: ResponseDestination.defaultMemoryLimit),
        followRedirects: Bool = false,
        retry: RetryPolicy = .automatic,
        timeout: Duration? = nil,
        bandwidthLimit: Int? = nil,
        progress: (@Sendable (TransferProgress) -> Void)? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.destination = destination
        self.followRedirects = followRedirects
        self.retry = retry.isAutomatic ? (method.isIdempotent ? .default : .none) : retry
        self.timeout = timeout
        self.bandwidthLimit = bandwidthLimit
        self.progress = progress
    }

    /// The same, for a policy that may be absent: nil picks ``RetryPolicy/automatic``.
    ///
    /// A separate overload so that `retry: .none` still means ``RetryPolicy/none`` (no retry)
    /// rather than an absent policy.
    public init(
        method: HTTPMethod = .get,
        url: URL,
        headers: HTTPHeaders = [:],
        body: RequestBody = .empty,
        destination: ResponseDestination = .memory(limit: ResponseDestination.defaultMemoryLimit),
        followRedirects: Bool = false,
        retry: RetryPolicy?,
        timeout: Duration? = nil,
        bandwidthLimit: Int? = nil,
        progress: (@Sendable (TransferProgress) -> Void)? = nil
    ) {
        self.init(method: method, url: url, headers: headers, body: body, destination: destination,
                  followRedirects: followRedirects, retry: retry ?? .automatic, timeout: timeout,
                  bandwidthLimit: bandwidthLimit, progress: progress)
    }
}

/// Bytes moved so far by one transfer.
public struct TransferProgress: Sendable, Equatable {
    public var uploaded: Int64
    public var uploadTotal: Int64?
    public var downloaded: Int64
    public var downloadTotal: Int64?

    public init(uploaded: Int64, uploadTotal: Int64?, downloaded: Int64, downloadTotal: Int64?) {
        self.uploaded = uploaded
        self.uploadTotal = uploadTotal
        self.downloaded = downloaded
        self.downloadTotal = downloadTotal
    }
}
