import AssetSync
import CoreMetrics
import Foundation
import PixieBrix
import Testing
import TestSupport

/// Runs a watch service on `folder` against the fixture's server while `body` runs, then shuts it
/// down and waits for it to stop.
func withWatch<R: Sendable>(_ fixture: Fixture, folder: String, store: StateStore, options: WatchOptions = .fast,
                            metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
                            _ body: (WatchService) async throws -> R) async throws -> R {
    let service = WatchService(folder: folder, database: fixture.database, client: fixture.client, store: store,
                               options: options, metricsFactory: metricsFactory)
    let running = Task { try await service.run() }
    do {
        let result = try await body(service)
        service.shutdown()
        try await running.value
        return result
    } catch {
        service.shutdown()
        _ = try? await running.value
        throw error
    }
}

extension WatchOptions {
    /// Tests' options: many transfers, a short settle window.
    static var fast: WatchOptions {
        var options = WatchOptions()
        options.push.transfers = 16
        options.settle = 1
        return options
    }
}

/// Polls `condition` until it holds; fails the test after `seconds` (a safety net, not a measure).
func eventually(_ what: String, seconds: Double = 180, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("timed out waiting until \(what)")
    throw TimedOut()
}

struct TimedOut: Error {}

/// Every asset of the fixture's database (uploaded or not), by filename.
func allAssets(_ fixture: Fixture) async throws -> [String: [Asset]] {
    Dictionary(grouping: try await fixture.client.assets(database: fixture.database), by: \.filename)
}

/// Checks that each expected file has exactly one uploaded asset with its bytes (pulled back and compared).
func expectUploadedOnce(_ fixture: Fixture, _ expected: [String: String], sourceLocation: SourceLocation = #_sourceLocation)
    async throws {
    let uploaded = try await fixture.uploadedAssets()
    #expect(Set(uploaded.keys) == Set(expected.keys), sourceLocation: sourceLocation)
    let duplicated = uploaded.filter { $0.value.count != 1 }.keys.sorted()
    #expect(duplicated.isEmpty, "files uploaded more than once: \(duplicated.prefix(20))", sourceLocation: sourceLocation)
    let target = try fixture.scratch.folder("check-\(UUID().uuidString.prefix(8))")
    let pulled = try await fixture.puller(target, store: try fixture.store("check-\(UUID().uuidString).sqlite")).pull()
    #expect(pulled.failed == 0, sourceLocation: sourceLocation)
    #expect(try treeDigest(target) == expected, "pulled bytes differ from the files", sourceLocation: sourceLocation)
}
