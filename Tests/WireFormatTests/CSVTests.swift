import Foundation
import Testing
import WireFormat

@Suite("CSV")
struct CSVTests {
    @Test("cells a spreadsheet would run get a leading quote; plain numbers and other text do not",
          arguments: [("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-A1", "'-A1"), ("@SUM(A1)", "'@SUM(A1)"),
                      ("\tx", "'\tx"), ("\rx", "'\rx"), ("-5", "-5"), ("+1.5e3", "+1.5e3"), ("-1e-9", "-1e-9"),
                      ("'=x", "'=x"), ("a=b", "a=b"), ("", ""), ("-", "'-"), ("1.", "1."), ("-1.", "'-1.")])
    func formulaRule(input: String, expected: String) {
        #expect(CSV.formulaSafe(input) == expected)
        #expect(CSV.formulaSafe(CSV.formulaSafe(input)) == expected)
    }

    @Test("a field is quoted when it holds a comma, a quote or a line break, after the formula rule")
    func quoting() {
        #expect(CSV.line(["=1+1", "a,b", "-7", "say \"hi\"", "two\r\nlines", "plain"])
            == "'=1+1,\"a,b\",-7,\"say \"\"hi\"\"\",\"two\r\nlines\",plain\r\n")
    }

    @Test("rows written are read back field for field, CRLF or LF")
    func readsWhatItWrites() throws {
        let rows = [["id", "note"], ["1", "a,b"], ["2", "line\nbreak \"q\""], ["3", ""]]
        let text = rows.map(CSV.line).joined()
        var reader = CSVReader(Data(text.utf8))
        var read: [[String]] = []
        while let row = try reader.nextRow() { read.append(row) }
        #expect(read == rows)
        var lf = CSVReader(Data("a,b\nc,d\n".utf8))
        #expect(try lf.nextRow() == ["a", "b"])
        #expect(try lf.nextRow() == ["c", "d"])
        #expect(try lf.nextRow() == nil)
    }

    @Test("broken CSV is an error with the byte offset",
          arguments: [("\"open", 5), ("a\"b", 1), ("\"a\"b", 3), ("a\rb", 1)])
    func malformed(text: String, offset: Int) {
        var reader = CSVReader(Data(text.utf8))
        do {
            _ = try reader.nextRow()
            Issue.record("\(text.debugDescription) was read")
        } catch let error as CSVParseError {
            #expect(error.offset == offset)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
