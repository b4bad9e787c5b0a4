import Crypto
import Foundation
import PixieBrix
import Testing
import TestSupport

@testable import AssetSync

/// Pull writes its `.part` through an open descriptor (never reopened by name): the digest taken while
/// the bytes arrive reads a kept prefix through that descriptor too.
@Suite("download digest through a descriptor", .serialized)
struct StreamDigestDescriptorTests {
    @Test("a resumed download into an open part hashes the kept prefix through its descriptor, then the stream")
    func resumedPartThroughDescriptor() async throws {
        try await withFixture { fixture in
            let source = try fixture.scratch.folder("one")
            let data = pseudoRandomBytes(2 << 20 + 777, seed: 7)
            try write(data, to: source + "/big.bin")
            let pushed = try await fixture.pusher(source, store: try fixture.store()).push()
            try #require(pushed.done == 1)
            let asset = try #require(try await fixture.uploadedAssets()["big.bin"]?.first)
            let expectedMD5 = Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined()
            let expectedSHA = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()

            let target = try fixture.scratch.folder("pulled")
            let kept = (1 << 20) + 11
            try write(data.prefix(kept), to: target + "/big.bin.part")
            let root = try ConfinedFolder(path: target, create: false)
            let part = try root.openPart(for: "big.bin", resume: true)
            try #require(part.size == Int64(kept), "the kept prefix was not reopened")
            // The path is gone: only the descriptor can still read the prefix.
            #expect(unlink(target + "/big.bin.part") == 0)

            let digest = StreamDigest(descriptor: part.descriptor, sha256: true)
            let location = try await fixture.client.downloadLocation(database: fixture.database, id: asset.id)
            let response = try await fixture.client.download(from: location, into: part.descriptor, name: "big.bin.part",
                                                             resume: true, observer: digest)
            #expect(response.outcome == .appended && response.resumedFrom == Int64(kept))
            let result = try #require(digest.finish())
            #expect(result == StreamDigest.Result(md5: expectedMD5, sha256: expectedSHA, size: Int64(data.count),
                                                    bytesReadFromDisk: Int64(kept)))
        }
    }
}
