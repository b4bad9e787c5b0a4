/// Sees a file destination's body bytes as the engine writes them, so that a caller can hash a
/// download on the way in instead of reading the file again afterwards.
///
/// Called on the engine's thread: keep each call cheap (hand heavy work to another thread).
/// An observer belongs to one request; its retries call ``beginFile(at:)`` again.
public protocol ResponseBodyObserver: AnyObject, Sendable {
    /// The destination file was opened by an attempt and writing starts at `offset`: the bytes
    /// before it are kept from earlier (a resumed download), anything after it is replaced.
    func beginFile(at offset: Int64)
    /// `bytes` were just written to the file, right after the previous ones.
    func wroteToFile(_ bytes: UnsafeRawBufferPointer)
}
