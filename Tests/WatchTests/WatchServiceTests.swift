import AssetSync
import Foundation
import PixieBrix
import Prometheus
import Testing
import TestSupport
import Transfer

/// The watch service in-process against a local server: files land, complete files arrive once.
@Suite("assets watch against the local server", .serialized)
struct WatchServiceTests {
    /// Files in the burst test; `WATCH_BURST` overrides (the bench drains 10,000).
    static let burst = ProcessInfo.processInfo.environment["WATCH_BURST"].flatMap(Int.init) ?? 2_000

    @Test("a slow writer's files are uploaded once each, complete, never half-way")
    func slowWriter() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            var options = WatchOptions.fast
            options.settle = 5
            try await withWatch(fixture, folder: inbox, store: store, options: options) { _ in
                // Four writers at once, each holding its file open through eight chunks with pauses.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            let path = inbox + "/slow-\(writer).bin"
                            _ = FileManager.default.createFile(atPath: path, contents: nil)
                            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                            for chunk in 0..<8 {
                                try handle.write(contentsOf: pseudoRandomBytes(32_768, seed: UInt64(writer * 100 + chunk)))
                                try await Task.sleep(for: .milliseconds(150))
                            }
                            try handle.close()
                        }
                    }
                    try await group.waitForAll()
                }
                try await eventually("the four files are uploaded") { try store.manifest().count == 4 }
            }
            // Not one asset was created for a partial file: four assets in all, each with the full bytes.
            #expect(try await allAssets(fixture).values.reduce(0) { $0 + $1.count } == 4)
            try await expectUploadedOnce(fixture, try treeDigest(inbox))
        }
    }

    @Test("a burst of small files: all uploaded, none twice")
    func burstOfFiles() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            for folder in 0..<20 { _ = try fixture.scratch.folder("inbox/d\(folder)") }
            let store = try fixture.store()
            var options = WatchOptions.fast
            options.push.transfers = 32
            let started = Date()
            try await withWatch(fixture, folder: inbox, store: store, options: options) { _ in
                for index in 0..<Self.burst {
                    try write(pseudoRandomBytes(100 + index % 500, seed: UInt64(index)),
                              to: inbox + "/d\(index % 20)/f\(index).dat")
                }
                print("burst: written after \(Date().timeIntervalSince(started)) s")
                try await eventually("\(Self.burst) files are uploaded") { try store.manifest().count == Self.burst }
                print("burst: drained after \(Date().timeIntervalSince(started)) s")
            }
            let all = try await allAssets(fixture)
            #expect(all.count == Self.burst)
            #expect(all.values.allSatisfy { $0.count == 1 }, "an asset was created twice for one file")
            #expect(all.values.allSatisfy { $0.allSatisfy(\.isUploaded) })
            // Each upload was checked against storage's MD5 on the way; the manifest holds the file's.
            let manifest = try store.manifest()
            let wrong = try manifest.filter { try FileDigest.md5(path: inbox + "/" + $0.key) != $0.value.md5 }.keys
            #expect(wrong.isEmpty, "uploads that differ from their files: \(wrong.prefix(10))")
        }
    }

    @Test("new nested folders, folders moved in, renames; temporary names are left alone")
    func foldersAndNames() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            try await withWatch(fixture, folder: inbox, store: store) { _ in
                for name in ["notes.txt.swp", "draft~", ".hidden", "download.part", "scratch.tmp", ".#lock"] {
                    try write(Data("temporary".utf8), to: inbox + "/" + name)
                }
                // Created and filled at once: the files land before the folders' watches exist.
                for depth in 1...5 {
                    let folder = (0..<depth).map { "n\($0)" }.joined(separator: "/")
                    try write(Data("level \(depth)\n".utf8), to: inbox + "/" + folder + "/file\(depth).txt")
                }
                // A tree made elsewhere and moved in whole.
                let outside = try fixture.scratch.folder("outside/tree")
                try write(Data("moved in\n".utf8), to: outside + "/sub/moved.txt")
                try write(pseudoRandomBytes(70_000, seed: 9), to: outside + "/top.bin")
                try FileManager.default.moveItem(atPath: outside, toPath: inbox + "/tree")
                // Written under a temporary name, then renamed into place.
                try write(pseudoRandomBytes(50_000, seed: 3), to: inbox + "/report.pdf.part")
                try FileManager.default.moveItem(atPath: inbox + "/report.pdf.part", toPath: inbox + "/report.pdf")
                let expected: Set = ["n0/file1.txt", "n0/n1/file2.txt", "n0/n1/n2/file3.txt", "n0/n1/n2/n3/file4.txt",
                                     "n0/n1/n2/n3/n4/file5.txt", "tree/sub/moved.txt", "tree/top.bin", "report.pdf"]
                try await eventually("the files in new folders are uploaded") {
                    Set(try store.manifest().keys) == expected
                }
                // A folder renamed within the tree: its files are new names, so new assets.
                try FileManager.default.moveItem(atPath: inbox + "/tree", toPath: inbox + "/renamed")
                try await eventually("the renamed folder's files are uploaded") {
                    let paths = try store.manifest().keys
                    return paths.contains("renamed/sub/moved.txt") && paths.contains("renamed/top.bin")
                }
                // And a new folder inside the renamed one is watched at its new path.
                try write(Data("late\n".utf8), to: inbox + "/renamed/sub/deeper/late.txt")
                try await eventually("a file in a folder under the renamed one is uploaded") {
                    try store.manifest()["renamed/sub/deeper/late.txt"] != nil
                }
            }
            let uploaded = try await fixture.uploadedAssets()
            #expect(Set(uploaded.keys) == ["n0/file1.txt", "n0/n1/file2.txt", "n0/n1/n2/file3.txt",
                                           "n0/n1/n2/n3/file4.txt", "n0/n1/n2/n3/n4/file5.txt", "tree/sub/moved.txt",
                                           "tree/top.bin", "report.pdf", "renamed/sub/moved.txt", "renamed/top.bin",
                                           "renamed/sub/deeper/late.txt"])
            #expect(uploaded.values.allSatisfy { $0.count == 1 })
        }
    }

    @Test("the periodic rescan catches what the events did not: here, files an edited .assetsignore lets in")
    func periodicRescan() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            try write(Data("*.log\n".utf8), to: inbox + "/.assetsignore")
            var options = WatchOptions.fast
            options.rescan = 1
            try await withWatch(fixture, folder: inbox, store: store, options: options) { _ in
                try write(Data("kept out\n".utf8), to: inbox + "/server.log")
                try write(Data("let in\n".utf8), to: inbox + "/notes.txt")
                try await eventually("notes.txt is uploaded") { try store.manifest()["notes.txt"] != nil }
                #expect(try store.manifest()["server.log"] == nil)
                // The ignore file's new rules apply from the next scan on.
                try write(Data("# nothing ignored\n".utf8), to: inbox + "/.assetsignore")
                try await eventually("the rescan uploads server.log") { try store.manifest()["server.log"] != nil }
            }
            let uploaded = try await fixture.uploadedAssets()
            #expect(Set(uploaded.keys) == ["notes.txt", "server.log"])
        }
    }

    @Test("a file rewritten after its upload is uploaded again as a new asset; a touch alone is not")
    func rewrittenAfterUpload() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            try await withWatch(fixture, folder: inbox, store: store) { _ in
                try write(Data("first version\n".utf8), to: inbox + "/doc.txt")
                try await eventually("the first version is uploaded") { try store.manifest()["doc.txt"] != nil }
                let firstAsset = try store.manifest()["doc.txt"]?.assetId
                try write(Data("second, longer version\n".utf8), to: inbox + "/doc.txt")
                try await eventually("the second version is uploaded") {
                    try store.manifest()["doc.txt"].map { $0.assetId != firstAsset } ?? false
                }
                let touched = Date().addingTimeInterval(-3600)
                try FileManager.default.setAttributes([.modificationDate: touched], ofItemAtPath: inbox + "/doc.txt")
                let mtime = try #require(FileStamp.of(path: inbox + "/doc.txt")).mtimeNs
                try await eventually("the touch is recorded without an upload") {
                    try store.manifest()["doc.txt"]?.mtimeNs == mtime
                }
            }
            let versions = try #require(try await fixture.uploadedAssets()["doc.txt"])
            #expect(versions.count == 2)
            let target = try fixture.scratch.folder("check")
            _ = try await fixture.puller(target, store: try fixture.store("check.sqlite")).pull()
            #expect(try String(contentsOfFile: target + "/doc.txt", encoding: .utf8) == "second, longer version\n")
        }
    }

    @Test("stopped, then started again: what arrived meanwhile is uploaded, nothing twice")
    func filesAddedWhileStopped() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            for index in 0..<40 { try write(pseudoRandomBytes(1000 + index, seed: UInt64(index)), to: inbox + "/a/\(index).bin") }
            try await withWatch(fixture, folder: inbox, store: store) { _ in
                try await eventually("the first 40 files are uploaded") { try store.manifest().count == 40 }
            }
            for index in 0..<40 { try write(pseudoRandomBytes(2000 + index, seed: UInt64(500 + index)), to: inbox + "/b/\(index).bin") }
            try write(Data("changed while stopped".utf8), to: inbox + "/a/0.bin")
            try await withWatch(fixture, folder: inbox, store: store) { _ in
                try await eventually("the files added while stopped are uploaded") {
                    let manifest = try store.manifest()
                    return manifest.count == 80 && manifest["a/0.bin"]?.size == 21
                }
            }
            let uploaded = try await fixture.uploadedAssets()
            #expect(uploaded.count == 80)
            #expect(uploaded["a/0.bin"]?.count == 2)
            #expect(uploaded.filter { $0.key != "a/0.bin" }.values.allSatisfy { $0.count == 1 })
        }
    }

    @Test("grace over: uploads still in flight are cut, stay resumable, and finish once on the next start")
    func graceOver() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            for index in 0..<8 { try write(pseudoRandomBytes(400_000, seed: UInt64(index)), to: inbox + "/\(index).bin") }
            var slow = WatchOptions.fast
            slow.push.transfers = 4
            slow.push.bandwidthLimit = 100_000
            slow.grace = 0.3
            try await withWatch(fixture, folder: inbox, store: store, options: slow) { _ in
                try await eventually("uploads are in flight") {
                    try store.pushCounts()[.uploading, default: 0] > 0
                }
            }
            // Cut short: nothing finished, nothing failed; the jobs stay in the queue where they were
            // (files not queued yet are found by the next start's scan).
            let counts = try store.pushCounts()
            #expect(try store.manifest().isEmpty)
            #expect(counts[.failed] == nil, "\(counts)")
            #expect(counts[.uploading, default: 0] > 0, "\(counts)")
            try await withWatch(fixture, folder: inbox, store: store) { _ in
                try await eventually("all eight are uploaded on the next start") { try store.manifest().count == 8 }
            }
            try await expectUploadedOnce(fixture, try treeDigest(inbox))
        }
    }

    @Test("server faults on (errors, 429s, resets): everything still arrives, once")
    func serverFaults() async throws {
        try await withFixture(faults: "rate500=0.08,rate429=0.05,reset=0.03,seed=11") { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            try await withWatch(fixture, folder: inbox, store: store) { _ in
                for index in 0..<200 {
                    try write(pseudoRandomBytes(index % 10 == 0 ? 300_000 : 2_000 + index, seed: UInt64(index)),
                              to: inbox + "/f\(index % 4)/\(index).bin")
                }
                try await eventually("every file arrives despite the faults") { try store.manifest().count == 200 }
            }
            try await withTransferEngine { engine in try await setFaults("", server: fixture.server, engine: engine) }
            try await expectUploadedOnce(fixture, try treeDigest(inbox))
        }
    }

    @Test("metrics: files done, bytes and request latency by step, through swift-metrics")
    func metrics() async throws {
        try await withFixture { fixture in
            let inbox = try fixture.scratch.folder("inbox")
            let store = try fixture.store()
            let registry = PrometheusCollectorRegistry()
            let factory = PrometheusMetricsFactory(registry: registry)
            let bytes = (0..<10).reduce(0) { $0 + 1000 + $1 }
            try await withWatch(fixture, folder: inbox, store: store, metricsFactory: factory) { service in
                for index in 0..<10 { try write(pseudoRandomBytes(1000 + index, seed: UInt64(index)), to: inbox + "/\(index).bin") }
                try await eventually("ten files are uploaded") { try store.manifest().count == 10 }
                try await eventually("the status counts them") { service.status().done == 10 }
                #expect(service.status().state == "watching")
            }
            let text = registry.emitToString()
            #expect(text.contains("assets_watch_files_done_total 10"))
            #expect(text.contains("assets_watch_bytes_uploaded_total \(bytes)"))
            #expect(text.contains(#"assets_watch_request_duration_seconds_count{step="upload"} 10"#))
            #expect(text.contains("assets_watch_file_latency_seconds_count 10"))
            #expect(text.contains("assets_watch_files_failed_total 0"))
        }
    }
}
