import CCurl
import Foundation

/// One attempt of one request: an easy handle with its options, body source, sink and waiter.
///
/// `@unchecked Sendable` is safe because the calling task creates and configures it, and once it is
/// submitted only the loop thread touches the handle, the sink and the parsed headers; the
/// completion state, which any thread may poke through cancellation, is guarded by `lock`.
final class EasyTransfer: @unchecked Sendable {
    typealias Continuation = CheckedContinuation<HTTPResponse, any Error>

    let handle: UnsafeMutableRawPointer
    let request: HTTPRequest
    let configuration: TransferEngine.Configuration
    let sink: ResponseSink
    var upload: UploadSource?
    var mime: OpaquePointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// libcurl's detailed message for the last failure (`CURLOPT_ERRORBUFFER`).
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// Headers of the latest response (reset by each status line, so redirects and `100` leave none behind).
    var responseHeaders = HTTPHeaders()
    var lastProgressReport: UInt64 = 0
    let startedAt = ContinuousClock.now

    private let lock = NSLock()
    private var completion = CompletionStateMachine<Continuation>()
    private var released = false

    /// - Parameter resumeOffset: bytes already in the destination file to ask the rest of with `Range`.
    init(request: HTTPRequest, configuration: TransferEngine.Configuration, resumeOffset: Int64) throws(TransferError) {
        CurlGlobal.ensureInitialized()
        guard let handle = curl_easy_init() else {
            throw TransferError(kind: .other, message: "curl_easy_init failed", url: request.url)
        }
        self.handle = handle
        self.request = request
        self.configuration = configuration
        self.sink = ResponseSink(destination: request.destination, requestedOffset: resumeOffset,
                                 expectedSize: request.expectedSize)
        sink.observer = request.bodyObserver
        let errorSize = Int(CCurl_error_size())
        self.errorBuffer = .allocate(capacity: errorSize)
        errorBuffer.initialize(repeating: 0, count: errorSize)
        try configure()
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    /// The pointer libcurl hands back to our callbacks; the engine's table keeps `self` alive meanwhile.
    var opaqueSelf: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> EasyTransfer {
        Unmanaged<EasyTransfer>.fromOpaque(pointer!).takeUnretainedValue()
    }

    // MARK: Waiting, cancellation, completion

    /// Hands the transfer to the loop unless its task was already cancelled.
    func start(_ continuation: Continuation, on loop: CurlMultiLoop) {
        // Submitting under the lock orders the loop's `add` before any `cancel` a concurrent onCancel sends.
        let (action, accepted) = lock.withLock { () -> (CompletionStateMachine<Continuation>.StartAction, Bool) in
            let action = completion.start(continuation)
            guard case .submit = action else { return (action, true) }
            return (action, loop.submit(self))
        }
        switch action {
        case .submit where !accepted:
            complete(.failure(TransferError(kind: .cancelled, message: "the transfer engine is shut down",
                                            url: request.url)))
        case .submit:
            break
        case .resumeCancelled(let continuation):
            releaseHandle()
            continuation.resume(throwing: TransferError(kind: .cancelled, message: "the transfer was cancelled",
                                                        url: request.url))
        }
    }

    func cancel(on loop: CurlMultiLoop) {
        lock.withLock {
            if case .abortInEngine = completion.cancel() { loop.cancel(self) }
        }
    }

    /// Ends the transfer: frees the handle (the loop has removed it from the multi) and resumes the waiter.
    func complete(_ result: Result<HTTPResponse, TransferError>) {
        releaseHandle()
        let continuation = lock.withLock { completion.finish() }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    private func releaseHandle() {
        guard !released else { return }
        released = true
        curl_easy_cleanup(handle)
        if let mime { curl_mime_free(mime) }
        if let headerList { curl_slist_free_all(headerList) }
        mime = nil
        headerList = nil
        upload = nil
    }
}
