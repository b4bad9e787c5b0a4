import AssetSync
import Foundation
import PixieBrix
import Testing
import TestSupport

/// The asset listing's `ordering` parameter on `assets serve`, as `pull --follow` reads it.
@Suite("asset listing newest first (ordering=-updated_at)")
struct ListingOrderTests {
    @Test("newest updated_at first across pages; re-marking an asset moves it to the front; plain listing keeps creation order")
    func newestFirst() async throws {
        try await withFixture { fixture in
            let folder = try fixture.scratch.folder("files")
            let store = try fixture.store()
            var created: [String] = []
            for index in 0..<5 {
                try write(Data("file \(index)\n".utf8), to: folder + "/f\(index).txt")
                _ = try await fixture.pusher(folder, store: store).push()
                created.append("f\(index).txt")
            }
            var pages: [[String]] = []
            let ordered = try await fixture.client.assetsNewestFirst(database: fixture.database, pageSize: 2) { page in
                pages.append(page.map(\.filename))
                return true
            }
            #expect(ordered)
            #expect(pages == [["f4.txt", "f3.txt"], ["f2.txt", "f1.txt"], ["f0.txt"]])
            #expect(try await fixture.client.assets(database: fixture.database).map(\.filename) == created)

            let oldest = try #require(try await fixture.uploadedAssets()["f0.txt"]?.first)
            try await fixture.client.markUploaded(database: fixture.database, id: oldest.id)
            var first: [String] = []
            try await fixture.client.assetsNewestFirst(database: fixture.database, pageSize: 2) { page in
                first = page.map(\.filename)
                return false
            }
            #expect(first == ["f0.txt", "f4.txt"])
        }
    }
}
