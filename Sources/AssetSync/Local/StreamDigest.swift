import Crypto
import Foundation
import PixieBrix

/// The MD5 (and, with `--verify content`, the SHA-256) of a transfer's bytes, computed while they
/// stream past: as a download writes them, or as an upload reads them to send. The engine's thread
/// copies each chunk into a small pool of buffers and a hasher thread digests them, so hashing runs
/// on the other core instead of in a pass of its own before or after the transfer. A resumed
/// download hashes the prefix kept in the `.part` file once, then the stream; an upload rewound to
/// a later offset hashes the file's bytes before it the same way.
///
/// Memory: at most ``bufferCount`` buffers of ``bufferSize`` bytes; when the hasher falls behind,
/// the engine's writes wait for a free buffer.
///
/// `@unchecked Sendable`: the pool, the queue and the counters are guarded by `condition`; the hash
/// states are touched only by whoever runs `process` (the hasher thread once it is started, the
/// caller of ``finish()`` before that, never both: ``finish()`` waits for the thread).
final class StreamDigest: DownloadObserver, UploadObserver, @unchecked Sendable {
    struct Result: Equatable {
        var md5: String
        var sha256: String?
        /// Bytes the digest covers: the prefix read from disk plus the streamed bytes.
        var size: Int64
        /// Bytes read back from the file (a resumed prefix); the rest came from the stream.
        var bytesReadFromDisk: Int64
    }

    static let bufferSize = 256 << 10
    static let bufferCount = 16

    private enum Work {
        /// Start over: the file is rewritten from `offset`; hash its first `offset` bytes from disk.
        case restart(offset: Int64)
        case bytes(buffer: Int, start: UnsafeMutableRawPointer, count: Int)
    }

    /// Where a kept prefix is read from: a path (opened without following a link) or a descriptor
    /// of the part being written, duplicated so that it outlives the caller's.
    private enum Source {
        case path(String)
        case descriptor(Int32)
    }

    private let source: Source
    let wantsSHA256: Bool
    private let condition = NSCondition()
    private var buffers: [UnsafeMutableRawPointer] = []
    private var freeBuffers: [Int] = []
    private var queue: [Work] = []
    private var busy = false
    private var stopped = false
    private var threadStarted = false
    /// Engine side: the buffer being filled and how full it is.
    private var current: Int?
    private var currentCount = 0
    /// Engine side: bytes the digest will cover once the queue is processed.
    private var covered: Int64 = 0

    // Hasher side.
    private var md5 = Insecure.MD5()
    private var sha256: SHA256?
    private var hashed: Int64 = 0
    private var readFromDisk: Int64 = 0
    private var readError: Int32?

    /// - Parameter path: the file the download writes, read only for a prefix kept from earlier.
    init(path: String, sha256: Bool) {
        self.source = .path(path)
        self.wantsSHA256 = sha256
        self.sha256 = sha256 ? SHA256() : nil
    }

    /// - Parameter descriptor: the open file the download writes (a ``PartFile``'s) or the upload reads,
    ///   read with `pread` only for a prefix kept from earlier; never reopened by name.
    init(descriptor: Int32, sha256: Bool) {
        // A duplicate: the hasher thread may still be reading when the caller closes its own.
        self.source = .descriptor(fcntl(descriptor, F_DUPFD_CLOEXEC, 0))
        self.wantsSHA256 = sha256
        self.sha256 = sha256 ? SHA256() : nil
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
        if case .descriptor(let fd) = source, fd >= 0 { close(fd) }
    }

    // MARK: Engine side

    func beginFile(at offset: Int64) {
        condition.lock()
        defer { condition.unlock() }
        // A retry that continues exactly where the stream stopped keeps the digest going.
        if offset == covered && offset > 0 { return }
        if let current {
            freeBuffers.append(current)
            self.current = nil
            currentCount = 0
        }
        queue.append(.restart(offset: offset))
        covered = offset
        if offset > 0 { startThreadLocked() }
        condition.broadcast()
    }

    func wroteToFile(_ bytes: UnsafeRawBufferPointer) {
        guard var source = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        condition.lock()
        defer { condition.unlock() }
        covered += Int64(remaining)
        while remaining > 0 {
            let buffer = current ?? takeBufferLocked()
            current = buffer
            let room = Self.bufferSize - currentCount
            let count = min(room, remaining)
            (buffers[buffer] + currentCount).copyMemory(from: source, byteCount: count)
            currentCount += count
            source += count
            remaining -= count
            if currentCount == Self.bufferSize {
                queue.append(.bytes(buffer: buffer, start: buffers[buffer], count: currentCount))
                current = nil
                currentCount = 0
                startThreadLocked()
                condition.broadcast()
            }
        }
    }

    /// An upload read `bytes` at `offset`: a body rewound or resumed elsewhere than where the stream stopped
    /// starts over from there (the bytes before it hashed from the file), as a download's attempt does.
    func read(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        condition.lock()
        let continues = offset == covered
        condition.unlock()
        if !continues { beginFile(at: offset) }
        wroteToFile(bytes)
    }

    private func takeBufferLocked() -> Int {
        while freeBuffers.isEmpty {
            if buffers.count < Self.bufferCount {
                buffers.append(.allocate(byteCount: Self.bufferSize, alignment: 64))
                return buffers.count - 1
            }
            condition.wait()
        }
        return freeBuffers.removeLast()
    }

    // MARK: Caller side

    /// Waits for the hasher and returns the digest of everything written; nil when the prefix
    /// could not be read (check the file the slow way then).
    func finish() -> Result? {
        condition.lock()
        if let current, currentCount > 0 {
            queue.append(.bytes(buffer: current, start: buffers[current], count: currentCount))
            self.current = nil
            currentCount = 0
            condition.broadcast()
        }
        if threadStarted {
            while !queue.isEmpty || busy { condition.wait() }
        }
        let pending = queue
        queue.removeAll()
        stopped = true
        condition.broadcast()
        condition.unlock()
        // The thread never started (a small body): hash here, no thread is touching the states.
        for work in pending { process(work) }
        guard readError == nil else { return nil }
        return Result(md5: md5.finalize().hex, sha256: sha256?.finalize().hex, size: hashed,
                      bytesReadFromDisk: readFromDisk)
    }

    /// Lets the hasher thread end when the download failed and no digest is wanted.
    func stop() {
        condition.lock()
        stopped = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Hasher side

    private func startThreadLocked() {
        guard !threadStarted, !stopped else { return }
        threadStarted = true
        let thread = Thread { [self] in runHasher() }
        thread.name = "assets.download-digest"
        thread.start()
    }

    private func runHasher() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let work = queue.removeFirst()
            busy = true
            condition.unlock()
            process(work)
            condition.lock()
            if case .bytes(let buffer, _, _) = work { freeBuffers.append(buffer) }
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func process(_ work: Work) {
        switch work {
        case .restart(let offset):
            md5 = Insecure.MD5()
            sha256 = wantsSHA256 ? SHA256() : nil
            hashed = 0
            readFromDisk = 0
            readError = nil
            if offset > 0 { hashPrefix(offset) }
        case .bytes(_, let start, let count):
            // The buffer is not reused before `process` returns: it is in no free list meanwhile.
            let bytes = UnsafeRawBufferPointer(start: start, count: count)
            md5.update(bufferPointer: bytes)
            sha256?.update(bufferPointer: bytes)
            hashed += Int64(count)
        }
    }

    private func hashPrefix(_ length: Int64) {
        let fd: Int32
        switch source {
        case .path(let path): fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        case .descriptor(let shared): fd = shared
        }
        guard fd >= 0 else {
            readError = errno == 0 ? EBADF : errno
            return
        }
        defer { if case .path = source { close(fd) } }
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 64)
        defer { chunk.deallocate() }
        var position: Int64 = 0
        while position < length {
            let wanted = Int(min(Int64(Self.bufferSize), length - position))
            let count = pread(fd, chunk, wanted, off_t(position))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                readError = count < 0 ? errno : EIO
                return
            }
            let bytes = UnsafeRawBufferPointer(start: chunk, count: count)
            md5.update(bufferPointer: bytes)
            sha256?.update(bufferPointer: bytes)
            position += Int64(count)
        }
        hashed += position
        readFromDisk += position
    }
}
