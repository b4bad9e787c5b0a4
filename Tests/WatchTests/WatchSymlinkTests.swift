@testable import AssetSync
import Foundation
import CoreMetrics
import PixieBrix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Watch never reads through a symbolic link: not a folder swapped for one, not a linked file.
@Suite("watch and symbolic links")
struct WatchSymlinkTests {
    /// Collects what the service reports.
    final class Notices: SyncReporter, @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private let lock = NSLock()
        private var texts: [String] = []
        func report(_ event: SyncEvent) {
            if case .notice(let text) = event { lock.withLock { texts.append(text) } }
        }
        var all: [String] { lock.withLock { texts } }
    }

    @Test("a folder swapped for a link right after its creation event: nothing from outside is uploaded")
    func swapRace() async throws {
        try await withFixture { fixture in
            let outside = try fixture.scratch.folder("outside")
            try write(Data("secret\n".utf8), to: outside + "/secret.txt")
            // Settled long ago: a scan through a link would hand it over for upload at once.
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)],
                                                  ofItemAtPath: outside + "/secret.txt")
            let folder = try fixture.scratch.folder("drop")
            let parking = try fixture.scratch.folder("parking")
            let notices = Notices()
            let service = WatchService(folder: folder, database: fixture.database, client: fixture.client,
                                       store: try fixture.store(), options: .fast, reporter: notices,
                                       metricsFactory: NOOPMetricsHandler.instance)
            let running = Task { try await service.run() }
            defer { service.shutdown() }
            try await eventually("the service watches the folder") { service.status().state == "watching" }

            // Each round: create a folder, then at once move it away and put a link to the outside in its place,
            // so that its creation event is handled when the name is already a link.
            let rounds = 40
            for round in 0..<rounds {
                let name = "sub\(round)"
                #expect(mkdir(folder + "/" + name, 0o755) == 0)
                #expect(rename(folder + "/" + name, parking + "/" + name) == 0)
                #expect(symlink(outside, folder + "/" + name) == 0)
            }
            // A real file after the rounds: once it is uploaded, every event before it was handled.
            try write(Data("marker\n".utf8), to: folder + "/marker.txt")
            try await eventually("the marker is uploaded") { try await fixture.uploadedAssets()["marker.txt"] != nil }
            service.shutdown()
            try await running.value

            let uploaded = try await fixture.client.assets(database: fixture.database).map(\.filename)
            #expect(uploaded == ["marker.txt"], "only the marker, nothing through a link: \(uploaded)")
            let texts = notices.all
            for round in 0..<rounds {
                #expect(texts.filter { $0.hasPrefix("skipped sub\(round):") }.count == 1, "sub\(round) reported once: \(texts)")
            }
            // The case under test happened: some folder was a link by the time its creation was handled.
            #expect(texts.contains { $0.hasSuffix(LocalScanner.replacedFolder) },
                    "no creation event was handled after its swap; the race was not arranged: \(texts)")
        }
    }

    @Test("a new folder that is already a link when scanned is neither watched nor listed through the link")
    func scanOfSwappedFolder() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let outside = try scratch.folder("outside")
        try write(Data("secret\n".utf8), to: outside + "/secret.txt")
        let root = try scratch.folder("tree")
        #expect(symlink(outside, root + "/sub") == 0)
        var watcher = try FolderWatcher(root: root)
        try watcher.watch("")
        var watched: [String] = []
        let result = try LocalScanner(root: root, rules: IgnoreRules()).scan(under: "sub") {
            watched.append($0)
            try watcher.watch($0)
        }
        #expect(result.files.isEmpty)
        #expect(watched.isEmpty)
        #expect(watcher.count == 1)
        #expect(result.skippedLinks.map(\.path) == ["sub"])
        // And the watch itself refuses a link even when asked directly (IN_DONT_FOLLOW | IN_ONLYDIR).
        try watcher.watch("sub")
        #expect(watcher.count == 1)
    }

    @Test("a linked file dropped into the folder is reported once and not uploaded")
    func linkedFileDropped() async throws {
        try await withFixture { fixture in
            let outside = try fixture.scratch.folder("outside")
            try write(Data("secret\n".utf8), to: outside + "/secret.txt")
            let folder = try fixture.scratch.folder("drop")
            let notices = Notices()
            let service = WatchService(folder: folder, database: fixture.database, client: fixture.client,
                                       store: try fixture.store(), options: .fast, reporter: notices,
                                       metricsFactory: NOOPMetricsHandler.instance)
            let running = Task { try await service.run() }
            defer { service.shutdown() }
            try await eventually("the service watches the folder") { service.status().state == "watching" }
            #expect(symlink(outside + "/secret.txt", folder + "/link.txt") == 0)
            // Touch the link's target through its own path: events on the target do not reach this watch.
            try write(Data("secret, changed\n".utf8), to: outside + "/secret.txt")
            try write(Data("marker\n".utf8), to: folder + "/marker.txt")
            try await eventually("the marker is uploaded") { try await fixture.uploadedAssets()["marker.txt"] != nil }
            service.shutdown()
            try await running.value
            let uploaded = try await fixture.client.assets(database: fixture.database).map(\.filename)
            #expect(uploaded == ["marker.txt"])
            #expect(notices.all.filter { $0.hasPrefix("skipped link.txt:") }.count == 1, "\(notices.all)")
        }
    }
}
