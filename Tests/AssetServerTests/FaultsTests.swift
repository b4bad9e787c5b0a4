import Foundation
import TestSupport
import Testing

@testable import AssetServer

@Suite("Fault injection")
struct FaultsTests {
    @Test func specGrammar() throws {
        let spec = try FaultSpec(
            parsing: "rate429=0.05,rate500=0.02,reset=0.01,latency=20ms,seed=7,upload.rate500=0.5,retry_after=3")
        #expect(spec.seed == 7)
        #expect(spec.rates[.api]?.rate429 == 0.05)
        #expect(spec.rates[.api]?.rate500 == 0.02)
        #expect(spec.rates[.upload]?.rate500 == 0.5)
        #expect(spec.rates[.download]?.latencyMilliseconds == 20)
        #expect(spec.rates[.api]?.retryAfter == 3)
        #expect(try FaultSpec(parsing: "latency=1s").rates[.api]?.latencyMilliseconds == 1000)
        #expect(try FaultSpec(parsing: "").isEmpty)
        #expect(throws: (any Error).self) { try FaultSpec(parsing: "rate429=2") }
        #expect(throws: (any Error).self) { try FaultSpec(parsing: "storage.rate429=0.1") }
        #expect(throws: (any Error).self) { try FaultSpec(parsing: "explode=1") }
    }

    @Test func seededDecisionsRepeat() throws {
        let spec = try FaultSpec(parsing: "rate429=0.3,rate500=0.3,seed=42")
        func draws() -> [String] {
            let injector = FaultInjector(spec: spec)
            return (0..<50).map { _ in "\(String(describing: injector.decide(.api).status))" }
        }
        #expect(draws() == draws())
    }

    @Test("faults are injected at about the configured rates, for each kind")
    func injectedAtConfiguredRates() throws {
        let injector = FaultInjector(spec: try FaultSpec(parsing: "rate429=0.1,rate503=0.2,rate500=0.05,reset=0.02,seed=9"))
        let draws = 20_000
        var throttled = 0, unavailable = 0, serverErrors = 0, resets = 0, clean = 0
        for _ in 0..<draws {
            let decision = injector.decide(.api)
            switch decision.status {
            case .throttle?: throttled += 1
            case .unavailable?: unavailable += 1
            case .serverError?: serverErrors += 1
            case nil: clean += 1
            }
            if decision.reset { resets += 1 }
        }
        // Expected counts are rate × draws; 15% covers more than five standard deviations at these sizes.
        func near(_ count: Int, _ expected: Double) -> Bool { abs(Double(count) - expected) <= expected * 0.15 }
        #expect(near(throttled, 2_000), "429s: \(throttled)")
        #expect(near(unavailable, 4_000), "503s: \(unavailable)")
        #expect(near(serverErrors, 1_000), "500s: \(serverErrors)")
        #expect(near(resets, 400), "resets: \(resets)")
        #expect(near(clean, 13_000), "clean: \(clean)")
        // An item without a class applies to every class of route.
        #expect((0..<1_000).contains { _ in injector.decide(.upload).status != nil })
    }

    @Test(.disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's")) func throttlingAndErrorsPerRouteClass() async throws {
        try await withHarness(faults: "api.rate429=1,retry_after=2") { h in
            let throttled = try await h.get("/api/databases/")
            #expect(throttled.status == 429)
            #expect(throttled["Retry-After"] == "2")
            #expect(throttled.detail == "Request was throttled. Expected available in 2 seconds.")
            // 401 comes before throttling.
            #expect(try await h.get("/api/databases/", auth: .none).status == 401)
            // Admin routes are never faulted.
            let off = try await h.admin("faults", #"{"spec": ""}"#)
            #expect(off.status == 200)
            let db = try await h.createDatabase()
            let asset = try await h.createAsset(db)
            _ = try await h.admin("faults", #"{"spec": "upload.rate503=1"}"#)
            let unavailable = try await h.upload(asset.fields, file: [1])
            #expect(unavailable.status == 503)
            #expect(unavailable.text.contains("<Code>ServiceUnavailable</Code>"))
            #expect(try await h.get("/api/databases/").status == 200)
            _ = try await h.admin("faults", #"{"spec": "api.rate500=1"}"#)
            // A 500 may come after the change was saved, as API.md warns.
            let failed = try await h.post("/api/databases/", #"{"name": "saved anyway"}"#)
            #expect(failed.status == 500)
            #expect(failed.detail == "A server error occurred.")
            _ = try await h.admin("faults", #"{"spec": ""}"#)
            let names = try await h.get("/api/databases/").array.compactMap { $0["name"] as? String }
            #expect(names.contains("saved anyway"))
            #expect(try await h.admin("faults", #"{"spec": "rate429=x"}"#).status == 400)
        }
    }

    @Test(.disabled(if: TestS3.isDefaultBlobStore, "checks the emulated storage under --data; S3 blobs are moto's")) func resetsCutBodiesMidway() async throws {
        try await withHarness { h in
            let db = try await h.createDatabase()
            let bytes = randomBytes(4 << 20)
            let id = try await h.uploadedAsset(db, bytes: bytes)
            let location = try #require(try await h.get("/api/databases/\(db)/assets/\(id)/")["Location"])
            _ = try await h.admin("faults", #"{"spec": "download.reset=1"}"#)
            let cut = try await curl(["-o", "/dev/null", "-w", "%{size_download}", location])
            #expect(cut.status != 0)
            #expect((Int(cut.output) ?? 0) < bytes.count)

            _ = try await h.admin("faults", #"{"spec": "upload.reset=1"}"#)
            let asset = try await h.createAsset(db)
            let file = temporaryDirectory() + "/f"
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let form = asset.fields.flatMap { ["-F", "\($0.0)=\($0.1)"] } + ["-F", "file=@\(file)"]
            let upload = try await curl(["-o", "/dev/null", "-w", "%{http_code}"] + form + [asset.uploadURL])
            #expect(upload.status != 0)
            _ = try await h.admin("faults", #"{"spec": ""}"#)
            let early = try await h.send(
                .patch, "/api/databases/\(db)/assets/\(asset.id)/", json: #"{"is_uploaded": true}"#)
            #expect(early.status == 400)
        }
    }

    @Test func latencyIsAdded() async throws {
        try await withHarness(faults: "api.latency=150ms") { h in
            let start = ContinuousClock.now
            _ = try await h.get("/api/databases/")
            #expect(ContinuousClock.now - start >= .milliseconds(150))
        }
    }
}
