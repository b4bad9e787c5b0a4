import Foundation
import Transfer

/// Calls to storage (presigned uploads, download links): never with the token, errors mapped from storage's XML.
extension PixieBrixClient {
    /// Sends a file to its presigned POST and returns storage's `ETag` (the hex MD5, unquoted).
    ///
    /// No `Authorization` goes to storage. The POST is idempotent (same key), so it is retried.
    public func upload(_ post: PresignedPost, file path: String, filename: String, bandwidthLimit: Int? = nil,
                       progress: (@Sendable (ByteProgress) -> Void)? = nil) async throws -> String {
        try await upload(post, source: .path(path), filename: filename, bandwidthLimit: bandwidthLimit, observer: nil,
                         progress: progress)
    }

    /// Sends the file open on `descriptor` to its presigned POST and returns storage's `ETag`: the bytes are read
    /// through that descriptor (a duplicate of it), never by name, so what is sent is the file the caller opened.
    /// - Parameter observer: sees the bytes as they are read to be sent (a hasher of what was sent).
    public func upload(_ post: PresignedPost, descriptor: Int32, filename: String, bandwidthLimit: Int? = nil,
                       observer: (any UploadObserver)? = nil,
                       progress: (@Sendable (ByteProgress) -> Void)? = nil) async throws -> String {
        let file: UploadFile
        do {
            file = try UploadFile(duplicating: descriptor, name: filename)
        } catch {
            throw PixieBrixError.from(error, doing: "uploading \(filename)")
        }
        return try await upload(post, source: .file(file), filename: filename, bandwidthLimit: bandwidthLimit,
                                observer: observer, progress: progress)
    }

    private func upload(_ post: PresignedPost, source: MultipartForm.FilePart.Source, filename: String,
                        bandwidthLimit: Int?, observer: (any UploadObserver)?,
                        progress: (@Sendable (ByteProgress) -> Void)?) async throws -> String {
        let what = "uploading \(filename)"
        let part = MultipartForm.FilePart(filename: (filename as NSString).lastPathComponent, source: source,
                                          observer: observer.map(UploadObserverBridge.init))
        let form = MultipartForm(fields: post.fields.map { MultipartForm.Field(name: $0.name, value: $0.value) }, file: part)
        let request = HTTPRequest(method: .post, url: post.url, body: .multipart(form), retry: .default,
                                  bandwidthLimit: bandwidthLimit, progress: Self.engineProgress(progress))
        let response = try await storage(request, doing: what)
        guard response.status == 204 || response.status == 201 || response.status == 200 else {
            throw PixieBrixError.from(response, doing: what)
        }
        guard let etag = response.headers["ETag"] else {
            throw PixieBrixError(kind: .malformedResponse, message: "\(what): storage sent no ETag", status: response.status)
        }
        return Self.unquotedETag(etag)
    }

    /// Downloads a storage URL into `path`, resuming from the bytes already there.
    ///
    /// - Returns: what was written: the whole object (`200`), the rest appended (`206`) or nothing left (`416`).
    /// - Parameter expectedSize: the object's size when known beforehand: a longer body is cut off with an error.
    /// - Parameter observer: sees the bytes as they are written (a hasher), told where each attempt starts.
    public func download(from url: URL, to path: String, resume: Bool = true, expectedSize: Int64? = nil,
                         observer: (any DownloadObserver)? = nil,
                         progress: (@Sendable (ByteProgress) -> Void)? = nil) async throws -> StorageDownload {
        var request = HTTPRequest(method: .get, url: url, destination: .file(path: path, resume: resume), retry: .default,
                                  progress: Self.engineProgress(progress))
        request.expectedSize = expectedSize
        return try await download(request, observer: observer)
    }

    /// Downloads a storage URL into a file already open for writing, resuming from the bytes already in it;
    /// the file is never reopened by name (`name` is for messages).
    ///
    /// - Returns: what was written: the whole object (`200`), the rest appended (`206`) or nothing left (`416`).
    /// - Parameter observer: sees the bytes as they are written (a hasher), told where each attempt starts.
    public func download(from url: URL, into descriptor: Int32, name: String, resume: Bool = true,
                         observer: (any DownloadObserver)? = nil,
                         progress: (@Sendable (ByteProgress) -> Void)? = nil) async throws -> StorageDownload {
        let request = HTTPRequest(method: .get, url: url,
                                  destination: .openFile(descriptor: descriptor, name: name, resume: resume),
                                  retry: .default, progress: Self.engineProgress(progress))
        return try await download(request, observer: observer)
    }

    private func download(_ request: HTTPRequest, observer: (any DownloadObserver)?) async throws -> StorageDownload {
        var request = request
        request.bodyObserver = observer.map(DownloadObserverBridge.init)
        let what = "downloading \((request.url.path as NSString).lastPathComponent)"
        let response = try await storage(request, doing: what)
        guard let download = StorageDownload(response) else { throw PixieBrixError.from(response, doing: what) }
        return download
    }

    /// The length and `ETag` of a stored object, read with `Range: bytes=0-0` (storage signs URLs for `GET` only).
    public func remoteObjectInfo(_ url: URL) async throws -> (length: Int64, etag: String?) {
        let what = "reading the length of \((url.path as NSString).lastPathComponent)"
        let request = HTTPRequest(method: .get, url: url, headers: ["Range": "bytes=0-0"], destination: .memory(limit: 64 << 10))
        let response = try await storage(request, doing: what)
        let etag = response.headers["ETag"].map(Self.unquotedETag)
        if response.status == 206, let total = StorageDownload.totalLength(contentRange: response.headers["Content-Range"]) {
            return (total, etag)
        }
        if response.status == 200 { return (Int64(response.headers["Content-Length"] ?? "") ?? Int64(response.body.count), etag) }
        if response.status == 416 { return (0, etag) }
        throw PixieBrixError.from(response, doing: what)
    }

    /// Sends a request to storage: never with the token, errors mapped from storage's XML.
    func storage(_ request: HTTPRequest, doing what: String) async throws -> HTTPResponse {
        var request = request
        request.headers.remove(name: "Authorization")
        request.followRedirects = false
        do {
            return try await engine.perform(request)
        } catch let error as TransferError {
            throw PixieBrixError.from(error, doing: what)
        }
    }

    static func engineProgress(_ report: (@Sendable (ByteProgress) -> Void)?) -> (@Sendable (TransferProgress) -> Void)? {
        guard let report else { return nil }
        return { progress in
            report(ByteProgress(uploaded: progress.uploaded, uploadTotal: progress.uploadTotal,
                                downloaded: progress.downloaded, downloadTotal: progress.downloadTotal))
        }
    }

    static func unquotedETag(_ value: String) -> String {
        var etag = value.trimmingCharacters(in: .whitespaces)
        if etag.hasPrefix("W/") { etag.removeFirst(2) }
        return etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
    }
}
