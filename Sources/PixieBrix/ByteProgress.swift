/// How far a file transfer has come: bytes sent and received so far, with the totals once known.
public struct ByteProgress: Sendable, Equatable {
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
