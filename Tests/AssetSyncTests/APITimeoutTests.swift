import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer

/// An API call cannot hang on a server that holds its answer (issue 10).
@Suite("API request timeout")
struct APITimeoutTests {
    @Test("an API call held past the client's request timeout fails as unreachable (timed out)")
    func heldAnswerTimesOut() async throws {
        try await withFixture { fixture in
            try await withTransferEngine { engine in
                try await setFaults("latency=3000ms", server: fixture.server, engine: engine)
                let impatient = try PixieBrixClient(baseURL: fixture.server.url, token: APIToken(fixture.server.token),
                                                    engine: engine, requestTimeout: .milliseconds(300))
                do {
                    _ = try await impatient.databases()
                    Issue.record("the held answer arrived before the timeout")
                } catch let error as PixieBrixError {
                    #expect(error.kind == .unreachable)
                    #expect(error.connectionFailure == .timeout)
                }
                try await setFaults("", server: fixture.server, engine: engine)
                #expect(PixieBrixClient.defaultRequestTimeout == .seconds(300))
            }
        }
    }
}
