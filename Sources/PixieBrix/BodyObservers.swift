import Transfer

/// Sees a download's bytes as they are written to its file, so that a caller can hash them on the
/// way in instead of reading the file again afterwards.
///
/// Called on the engine's thread: keep each call cheap (hand heavy work to another thread).
/// An observer belongs to one download; its retries call ``beginFile(at:)`` again.
public protocol DownloadObserver: AnyObject, Sendable {
    /// An attempt opened the file and writes from `offset`: the bytes before it are kept from
    /// earlier (a resumed download), anything after it is replaced.
    func beginFile(at offset: Int64)
    /// `bytes` were just written to the file, right after the previous ones.
    func wroteToFile(_ bytes: UnsafeRawBufferPointer)
}

/// Hands the engine's body callbacks to a ``DownloadObserver``, so that callers never see the engine's protocol.
final class DownloadObserverBridge: ResponseBodyObserver {
    let observer: any DownloadObserver

    init(_ observer: any DownloadObserver) {
        self.observer = observer
    }

    func beginFile(at offset: Int64) { observer.beginFile(at: offset) }
    func wroteToFile(_ bytes: UnsafeRawBufferPointer) { observer.wroteToFile(bytes) }
}

/// Sees an upload's bytes as they are read from its file to be sent, so that a caller can hash what
/// was sent on the way out instead of reading the file in a pass of its own first.
///
/// Called on the engine's thread: keep each call cheap. A retry or a redirect rewinds the body: its
/// bytes then come again from offset 0.
public protocol UploadObserver: AnyObject, Sendable {
    /// `bytes` were just read from the file at `offset`, to be sent.
    func read(_ bytes: UnsafeRawBufferPointer, at offset: Int64)
}

/// Hands the engine's request-body callbacks to an ``UploadObserver``.
final class UploadObserverBridge: RequestBodyObserver {
    let observer: any UploadObserver

    init(_ observer: any UploadObserver) {
        self.observer = observer
    }

    func read(_ bytes: UnsafeRawBufferPointer, at offset: Int64) { observer.read(bytes, at: offset) }
}
