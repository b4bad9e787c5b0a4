import Foundation
import Testing

@testable import PixieBrix
import WireFormat

@Suite("wire parsing")
struct ParsingTests {
    @Test("JSON objects keep their key order, and text round-trips")
    func orderedJSON() throws {
        let text = #"{"key":"k","policy":"p","x-amz-algorithm":"a","b":[1,2.5,true,null,"é\n\u00e9\ud83d\ude00"]}"#
        let value = try JSONValue(parsing: Data(text.utf8))
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["key", "policy", "x-amz-algorithm", "b"])
        #expect(try JSONValue(parsing: Data(value.jsonText.utf8)) == value)
        #expect(value["b"]?.jsonText == #"[1,2.5,true,null,"é\né😀"]"#)
    }

    @Test("malformed JSON is an error with an offset", arguments: ["{", #"{"a":}"#, "[1,]", #""\x""#, "01a", "{} x"])
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Data(text.utf8)) }
    }

    @Test("Link headers by relation, with commas inside URLs")
    func linkHeader() {
        let header = LinkHeader([#"<https://h/api/x/?page=2&a=1,2>; rel="next", <https://h/api/x/?page=1>; rel="prev first""#])
        #expect(header["next"]?.absoluteString == "https://h/api/x/?page=2&a=1,2")
        #expect(header["first"]?.absoluteString == "https://h/api/x/?page=1")
        #expect(header["last"] == nil)
    }

    @Test("timestamps with and without a fraction")
    func timestamps() throws {
        let withFraction = try #require(Timestamp.parse("2024-11-15T20:42:47.670046Z"))
        let without = try #require(Timestamp.parse("2024-11-15T20:42:47Z"))
        #expect(withFraction.timeIntervalSince(without) > 0.66 && withFraction.timeIntervalSince(without) < 0.68)
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test("error bodies: DRF detail, DRF fields, storage XML")
    func errorDetail() {
        #expect(PixieBrixError.errorDetail(Data(#"{"detail":"Not found."}"#.utf8)) == "Not found.")
        #expect(PixieBrixError.errorDetail(Data(#"{"filename":["Too long.","Bad."]}"#.utf8)) == "filename: Too long. Bad.")
        #expect(PixieBrixError.errorDetail(Data("<Error><Code>AccessDenied</Code><Message>expired</Message></Error>".utf8))
            == "AccessDenied: expired")
    }

    @Test("tokens never show in descriptions")
    func tokenRedaction() throws {
        let token = try #require(APIToken("  s3cr3t-value\n"))
        #expect("\(token)" == "<token>")
        #expect(String(reflecting: token) == "<token>")
        #expect(token.authorizationValue == "Token s3cr3t-value")
        #expect(APIToken("  ") == nil)
    }
}
