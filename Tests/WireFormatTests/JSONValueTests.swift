import Foundation
import Testing
import WireFormat

@Suite("ordered JSON")
struct JSONValueTests {
    @Test("a repeated key keeps its last value at the place where the key first appeared")
    func repeatedKeyKeepsTheLastValueInTheFirstPlace() throws {
        let value = try JSONValue(parsing: #"{"a":1,"b":2,"a":3}"#)
        #expect(value.members?.map(\.key) == ["a", "b"])
        #expect(value["a"] == .number("3"))
        #expect(value.jsonText == #"{"a":3,"b":2}"#)
    }

    @Test("members keep their order and numbers their text through a round trip")
    func orderAndNumbersSurviveARoundTrip() throws {
        let text = #"{"z":1.50,"a":[1e3,-0,true,null],"m":{"y":"é\n😀","x":{}}}"#
        let value = try JSONValue(parsing: text)
        #expect(value.jsonText == text)
        #expect(value.members?.map(\.key) == ["z", "a", "m"])
        #expect(value["m"]?["y"]?.stringValue == "é\n😀")
    }

    @Test("numbers are equal by value, other kinds by content")
    func equality() {
        #expect(JSONValue.number("1") == .number("1.0"))
        #expect(JSONValue.number("1") != .number("2"))
        #expect(JSONValue.object(["a": 1, "b": 2]) != .object(["b": 2, "a": 1]))
        #expect(JSONValue.string("1") != .number("1"))
    }

    @Test("escapes are read, surrogate pairs joined, and control characters written as Python writes them")
    func escapes() throws {
        let value = try JSONValue(parsing: #""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\u0001""#)
        #expect(value == .string("\"\\/\u{08}\u{0C}\n\r\té😀\u{01}"))
        #expect(value.jsonText == #""\"\\/\b\f\n\r\té😀\u0001""#)
    }

    @Test("malformed text is refused with the byte offset where reading stopped",
          arguments: [("{", 1), (#"{"a":}"#, 5), ("[1,]", 3), (#""\x""#, 3), ("01", 2), ("{} x", 3), ("1.", 2),
                       (#""\u+041""#, 3), (#""\ud800x""#, 7), ("\"a\u{01}\"", 2), ("[", 1), ("", 0)])
    func malformed(text: String, offset: Int) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.offset == offset, "\(error)")
        }
    }

    @Test("bytes that are not UTF-8 inside a string are refused")
    func invalidUTF8() {
        #expect(throws: JSONParseError(offset: 3, reason: "Invalid UTF-8")) {
            try JSONValue(parsing: [0x22, 0x61, 0xFF, 0x22])
        }
    }

    @Test("nesting is refused past the limit, accepted up to it")
    func nesting() throws {
        let depth = 512
        #expect(throws: JSONParseError.self) {
            try JSONValue(parsing: String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1))
        }
        let deepest = try JSONValue(parsing: String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        #expect(deepest.jsonText.count == 2 * depth)
    }

    @Test("cells: strings bare, null empty, containers as JSON")
    func cells() throws {
        let value = try JSONValue(parsing: #"["a",null,true,2.50,{"k":[1]}]"#)
        guard case .array(let items) = value else {
            Issue.record("not an array")
            return
        }
        #expect(items.map(\.cellText) == ["a", "", "true", "2.50", #"{"k":[1]}"#])
    }
}
