import AssetServer
import Foundation
import Testing
import TestSupport

@Suite("Persistence, concurrency and the assets serve binary")
struct ServerLifecycleTests {
    @Test func dataTokenAndOrganizationSurviveARestart() async throws {
        let directory = temporaryDirectory()
        let (token, organization, db, asset) = try await withHarness(dataDirectory: directory) { h in
            let db = try await h.createDatabase("kept")
            let asset = try await h.uploadedAsset(db, filename: "kept.txt", bytes: Array("still here".utf8))
            _ = try await h.post("/api/databases/\(db)/records/", #"{"id": "r", "data": {"x": 1}}"#)
            return (h.server.token, h.server.organizationID, db, asset)
        }
        try await withHarness(dataDirectory: directory) { h in
            #expect(h.server.token == token)
            #expect(h.server.organizationID == organization)
            let database = try await h.get("/api/databases/\(db)/")
            #expect(database.object["name"] as? String == "kept")
            #expect(database.object["num_records"] as? Int == 1)
            let location = try #require(try await h.get("/api/databases/\(db)/assets/\(asset)/")["Location"])
            #expect(try await h.fetch(location).text == "still here")
        }
        let chosen = try await withHarness(dataDirectory: directory, configure: { $0.token = "chosen-token" }) { h in
            h.server.token
        }
        #expect(chosen == "chosen-token")
    }

    @Test func hundredsOfConcurrentCreatesAndUploadsLoseNothing() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let count = 200
            let uploaded = try await withThrowingTaskGroup(of: (String, [UInt8]).self) { group in
                for index in 0..<count {
                    group.addTask {
                        try await withHarnessClient(h) { client in
                            let bytes = Array("file \(index) ".utf8) + randomBytes(Int.random(in: 0...4096))
                            let id = try await client.uploadedAsset(db, filename: "f\(index)", bytes: bytes)
                            return (id, bytes)
                        }
                    }
                }
                var all: [(String, [UInt8])] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(Set(uploaded.map(\.0)).count == count)
            let list = try await h.get("/api/databases/\(db)/assets/?page_size=1000")
            #expect(list.array.count == count)
            #expect(list.array.allSatisfy { $0["is_uploaded"] as? Bool == true })
            for (id, bytes) in uploaded.prefix(20) {
                let location = try #require(try await h.get("/api/databases/\(db)/assets/\(id)/")["Location"])
                #expect(try await h.fetch(location).bytes == bytes)
            }
        }
    }

    @Test func theBuiltBinaryServes() async throws {
        try CLI.requireBinary()
        let binary = CLI.binary
        let directory = temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data", directory, "--port", "0", "--token", "binary-token"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let banner = try await readBanner(output.fileHandleForReading)
        let url = try #require(banner.first { $0.hasPrefix("assets serve: listening on ") }).replacingOccurrences(
            of: "assets serve: listening on ", with: "")
        #expect(banner.contains("token: binary-token"))
        #expect(banner.contains("data: \(directory)"))
        #expect(banner.contains { $0.hasPrefix("organization: ") })
        let created = try await curl([
            "-X", "POST", "-H", "Authorization: Token binary-token", "-H", "Content-Type: application/json",
            "-H", "Accept: application/json; version=2.0", "-d", #"{"name": "from binary"}"#, "\(url)/api/databases/",
        ])
        #expect(created.output.contains("\"name\":\"from binary\""))
        let unauthorized = try await curl(["-o", "/dev/null", "-w", "%{http_code}", "\(url)/api/databases/"])
        #expect(unauthorized.output == "401")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/server.sqlite"))
    }

    /// The first four lines the server prints, read off the cooperative pool.
    func readBanner(_ handle: FileHandle) async throws -> [String] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                var text = ""
                while text.split(separator: "\n").count < 4 {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                continuation.resume(returning: text.split(separator: "\n").map(String.init))
            }.start()
        }
    }
}

/// A second client on its own connection to the harness's server.
func withHarnessClient<R: Sendable>(_ h: Harness, _ body: @escaping @Sendable (Harness) async throws -> R) async throws
    -> R
{
    try await TestClientBox.with(h, body)
}
