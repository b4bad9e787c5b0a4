import CCurl
import Foundation

/// Owns one `curl_multi` handle and the thread that drives it.
///
/// `@unchecked Sendable` is safe because the multi handle, the easy handles added to it and the
/// `active` table are touched only on the loop's own thread; the only state shared with other
/// threads is `commands`/`stopping`/`exitWaiters`, always under `lock`, and `curl_multi_wakeup`,
/// which libcurl documents as callable from any thread.
final class CurlMultiLoop: @unchecked Sendable {
    private enum Command {
        case add(EasyTransfer)
        case cancel(EasyTransfer)
    }

    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var commands: [Command] = []
    private var stopping = false
    private var exited = false
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    /// Transfers added to the multi handle, keyed by their easy handle. Loop thread only.
    private var active: [UnsafeMutableRawPointer: EasyTransfer] = [:] {
        didSet { activeCountLock.withLock { activeCountValue = active.count } }
    }
    /// How many transfers hold an easy handle in the multi, for tests; updated before any waiter resumes.
    private let activeCountLock = NSLock()
    private var activeCountValue = 0

    init(configuration: TransferEngine.Configuration) {
        CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        CCurl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(1, configuration.maxConnections))
        CCurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, configuration.maxConnectionsPerHost))
        // The idle-connection cache must hold as many connections as may be open, or reuse suffers.
        CCurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxConnections))
        CCurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, configuration.http2 ? CCurl_pipe_multiplex() : 0)

        let thread = Thread { [self] in self.run() }
        thread.name = "assets.transfer"
        thread.start()
    }

    /// Hands a configured transfer to the loop. Returns false when the loop is stopping.
    func submit(_ transfer: EasyTransfer) -> Bool {
        lock.withLock {
            guard !stopping else { return false }
            commands.append(.add(transfer))
            wakeLocked()
            return true
        }
    }

    /// Asks the loop to abort a submitted transfer; it completes as cancelled.
    func cancel(_ transfer: EasyTransfer) {
        lock.withLock {
            guard !exited else { return }
            commands.append(.cancel(transfer))
            wakeLocked()
        }
    }

    /// Stops the loop without waiting; running transfers complete as cancelled.
    func requestStop() {
        lock.withLock {
            stopping = true
            if !exited { wakeLocked() }
        }
    }

    /// Wakes `curl_multi_poll`. Called under `lock`, which the thread takes to set `exited` before it
    /// frees the multi handle: so no wakeup can reach a freed handle.
    private func wakeLocked() {
        curl_multi_wakeup(multi)
    }

    /// Stops the loop and waits until its thread has released every handle.
    func stop() async {
        requestStop()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lock.withLock {
                if exited { return true }
                exitWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    var activeCount: Int { activeCountLock.withLock { activeCountValue } }

    // MARK: The loop thread

    private func run() {
        var stillRunning: Int32 = 0
        while true {
            let (pending, stop) = lock.withLock {
                defer { commands.removeAll(keepingCapacity: true) }
                return (commands, stopping)
            }
            for command in pending { apply(command) }
            if stop { break }
            curl_multi_perform(multi, &stillRunning)
            collectFinished()
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for (handle, transfer) in active {
            curl_multi_remove_handle(multi, handle)
            transfer.complete(.failure(TransferError(kind: .cancelled, message: "the transfer engine shut down",
                                                     url: transfer.request.url)))
        }
        active.removeAll()
        let waiters = lock.withLock {
            exited = true
            // Only cancellations can have come in since the stop (submit refuses work): nothing to do.
            commands.removeAll()
            defer { exitWaiters.removeAll() }
            return exitWaiters
        }
        curl_multi_cleanup(multi)
        for waiter in waiters { waiter.resume() }
    }

    private func apply(_ command: Command) {
        switch command {
        case .add(let transfer):
            let code = curl_multi_add_handle(multi, transfer.handle)
            if code == CURLM_OK {
                active[transfer.handle] = transfer
            } else {
                let message = String(cString: curl_multi_strerror(code))
                transfer.complete(.failure(TransferError(kind: .other, message: "could not start the transfer: \(message)",
                                                         url: transfer.request.url)))
            }
        case .cancel(let transfer):
            guard active.removeValue(forKey: transfer.handle) != nil else { return }
            curl_multi_remove_handle(multi, transfer.handle)
            transfer.complete(.failure(TransferError(kind: .cancelled, message: "the transfer was cancelled",
                                                     url: transfer.request.url)))
        }
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            var privateData: UnsafeMutableRawPointer?
            CCurl_easy_getinfo_pointer(handle, CURLINFO_PRIVATE, &privateData)
            curl_multi_remove_handle(multi, handle)
            guard let privateData else { continue }
            // A strong reference from here on: the table held the only engine-side one.
            let transfer = Unmanaged<EasyTransfer>.fromOpaque(privateData).takeUnretainedValue()
            active.removeValue(forKey: handle)
            transfer.finish(code: code)
        }
    }
}
