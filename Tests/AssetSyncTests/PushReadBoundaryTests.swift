import AssetSync
import Foundation
import Synchronization
import Testing
import TestSupport

/// Swaps a folder on the way to a file for a link to another folder the first time the push starts that file's
/// job: after the scan and the hash, before the upload reads the bytes.
private final class SwapOnStart: SyncReporter {
    let folder: String
    let outside: String
    private let swapped = Mutex(false)
    let collected = CollectingReporter()

    init(folder: String, outside: String) {
        self.folder = folder
        self.outside = outside
    }

    func report(_ event: SyncEvent) {
        collected.report(event)
        guard case .started(let path, _) = event, path == "sub/photo.bin" else { return }
        let first = swapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        precondition(rename(folder + "/sub", folder + "/sub-moved") == 0)
        precondition(symlink(outside, folder + "/sub") == 0)
    }

    var didSwap: Bool { swapped.withLock { $0 } }
}

@Suite("push reads each file through the folder it scanned")
struct PushReadBoundaryTests {
    @Test("a folder swapped for a link to another folder before the upload: nothing from outside is uploaded")
    func parentSwappedForLinkBeforeUpload() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("drop")
            let outside = try fixture.scratch.folder("outside")
            try write(Data(repeating: 0x41, count: 4096), to: folder + "/sub/photo.bin")
            try write(Data(repeating: 0x53, count: 4096), to: outside + "/photo.bin")
            let reporter = SwapOnStart(folder: folder, outside: outside)
            var pusher = fixture.pusher(folder, store: try fixture.store())
            pusher.reporter = reporter

            let summary = try await pusher.push()

            #expect(reporter.didSwap)
            #expect(summary.failed == 1)
            #expect(try await fixture.uploadedAssets().isEmpty)
            let reason = try #require(reporter.collected.failures["sub/photo.bin"])
            #expect(reason.contains("symbolic link"))
        }
    }
}
