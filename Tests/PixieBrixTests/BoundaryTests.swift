import Foundation
import Testing
import Transfer

@testable import PixieBrix
import WireFormat

/// Loopback is an address, not a prefix; CSV cells cannot carry formulas (issue 10).
@Suite("boundaries")
struct BoundaryTests {
    @Test("plain http to a name that only starts like a loopback address is refused",
          arguments: ["127.0.0.1.example.com", "127.evil.example", "localhost.example.com", "127.1", "0177.0.0.1",
                      "[::ffff:127.0.0.1]", "[::2]", "10.0.0.1"])
    func notLoopback(host: String) throws {
        #expect(!PixieBrixClient.isLoopback(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))))
        let engine = TransferEngine()
        let url = try #require(URL(string: "http://\(host):8710"))
        #expect(throws: PixieBrixError.self) {
            _ = try PixieBrixClient(baseURL: url, token: APIToken("t"), engine: engine)
        }
        do {
            _ = try PixieBrixClient(baseURL: url, token: APIToken("t"), engine: engine)
        } catch let error as PixieBrixError {
            #expect(error.kind == .insecureURL)
        }
    }

    @Test("127.0.0.0/8, ::1 and localhost are this machine", arguments: [
        "127.0.0.1", "127.255.255.254", "127.1.2.3", "[::1]", "[0:0:0:0:0:0:0:1]", "localhost", "LOCALHOST",
    ])
    func loopback(host: String) throws {
        let url = try #require(URL(string: "http://\(host):8710"))
        let client = try PixieBrixClient(baseURL: url, token: APIToken("t"), engine: TransferEngine())
        #expect(client.baseURL.host?.isEmpty == false)
    }

    @Test("CSV cells a spreadsheet would run are prefixed with a quote; numbers and plain text are not",
          arguments: [
              ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
              ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
              ("-2+3", "'-2+3"),
              ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
              ("\tTAB", "'\tTAB"),
              ("\rCR", "'\rCR"),
              ("-5", "-5"),
              ("+1.5e3", "+1.5e3"),
              ("'=already", "'=already"),
              ("plain", "plain"),
              ("", ""),
          ])
    func formulaCells(pair: (input: String, expected: String)) {
        #expect(CSV.formulaSafe(pair.input) == pair.expected)
        #expect(CSV.formulaSafe(CSV.formulaSafe(pair.input)) == pair.expected)
    }

    @Test("a formula cell is defused and still quoted as RFC 4180 asks")
    func formulaCellInLine() {
        #expect(CSV.line(["=1+1", "a,b", "-7"]) == "'=1+1,\"a,b\",-7\r\n")
        #expect(CSV.line(["=A1,\"x\""]) == "\"'=A1,\"\"x\"\"\"\r\n")
    }
}
