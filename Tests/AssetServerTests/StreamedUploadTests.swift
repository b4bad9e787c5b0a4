import Crypto
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A presigned POST of a 64 MiB file to `assets serve` run as its own process, so that its peak resident memory
/// (`VmHWM` in /proc/PID/status) is the server's alone.
@Suite("Streamed uploads")
struct StreamedUploadTests {
    static let fileSize = 64 << 20
    /// Well under the file: streamed, the peak grows by about 1 MiB; a server that held the body grows by 65 MiB.
    static let peakGrowthBound = 16 << 20

    @Test("a 64 MiB file part is streamed to disk: the server's peak RSS grows by less than 16 MiB")
    func sixtyFourMebibytes() async throws {
        try CLI.requireBinary()
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServeProcess(dataDirectory: directory + "/data", logPath: directory + "/serve.log")
        defer { server.stop() }
        let base = try await server.waitForURL()
        let auth = ["-H", "Authorization: Token \(server.token)", "-H", "Accept: application/json; version=2.0"]
        let json = ["-H", "Content-Type: application/json"]

        let database = try await curl(
            auth + json + ["-d", #"{"name": "big", "type": "Asset"}"#, "\(base)/api/databases/"])
        let databaseID = try #require(Self.object(database.output)["id"] as? String, "\(database.output)")
        let created = try await curl(
            auth + json + ["-d", #"{"filename": "big.bin"}"#, "\(base)/api/databases/\(databaseID)/assets/"])
        let uploadURL = try #require(Self.object(created.output)["upload_url"] as? String, "\(created.output)")
        let form = orderedFields(created.output).flatMap { ["--form-string", "\($0.0)=\($0.1)"] }
        #expect(form.count >= 12, "\(created.output)")

        let small = directory + "/small.bin"
        try Data(randomBytes(100_000)).write(to: URL(fileURLWithPath: small))
        let warmUp = try await curl(["-o", "/dev/null", "-w", "%{http_code}"] + form + ["-F", "file=@\(small)", uploadURL])
        #expect(warmUp.output == "204")
        let before = try server.peakResidentBytes()

        let big = directory + "/big.bin"
        let md5 = try Self.writeRandomFile(big, size: Self.fileSize)
        let headers = directory + "/headers.txt"
        let upload = try await curl(
            ["-o", "/dev/null", "-D", headers, "-w", "%{http_code}"] + form + ["-F", "file=@\(big)", uploadURL])
        #expect(upload.output == "204")
        let etag = try String(contentsOfFile: headers, encoding: .utf8).lowercased()
        #expect(etag.contains("etag: \"\(md5)\""), "\(etag)")
        let after = try server.peakResidentBytes()

        #expect(before > 0)
        #expect(
            after - before < Self.peakGrowthBound,
            "peak RSS grew by \((after - before) >> 20) MiB for a \(Self.fileSize >> 20) MiB upload")
    }

    static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Writes `size` random bytes in 1 MiB pieces and returns their MD5, computed here as they are written.
    static func writeRandomFile(_ path: String, size: Int) throws -> String {
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        var written = 0
        while written < size {
            let piece = randomBytes(min(1 << 20, size - written))
            hasher.update(data: piece)
            try handle.write(contentsOf: piece)
            written += piece.count
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
