import Foundation
import Testing
import WireFormat

@Suite("timestamps")
struct TimestampTests {
    @Test("written with six fraction digits, or none when the fraction is zero")
    func writing() {
        #expect(Timestamp.iso(1_731_703_367_670_046) == "2024-11-15T20:42:47.670046Z")
        #expect(Timestamp.iso(1_731_703_367_000_000) == "2024-11-15T20:42:47Z")
        #expect(Timestamp.iso(-1) == "1969-12-31T23:59:59.999999Z")
        #expect(Timestamp.date(day: 19_000) == "2022-01-08")
        #expect(Timestamp.amzDate(1_704_067_200_000_000) == "20240101T000000Z")
    }

    @Test("read from ISO 8601 with or without a fraction, offset or time",
          arguments: [("2024-11-15T20:42:47.670046Z", 1_731_703_367_670_046), ("2024-11-15T20:42:47Z", 1_731_703_367_000_000),
                      ("2024-11-15T20:42:47.67Z", 1_731_703_367_670_000), ("2024-11-15 20:42:47", 1_731_703_367_000_000),
                      ("2024-11-15T22:42:47+02:00", 1_731_703_367_000_000), ("2024-11-15", 1_731_628_800_000_000)] as [(String, Int64)])
    func reading(text: String, micros: Int64) {
        #expect(Timestamp.parseISO(text) == micros)
    }

    @Test("what is not a timestamp is nil",
          arguments: ["yesterday", "2024-02-30", "2024-13-01", "+024-11-15", "2024-11-15T+1:42:47Z", "2024-11-15T20:42:47.Z",
                      "2024-11-15T20:42:47+2:00", ""])
    func refusing(text: String) {
        #expect(Timestamp.parseISO(text) == nil)
    }

    @Test("dates round-trip through the codec at microsecond resolution")
    func dates() throws {
        let date = try #require(Timestamp.parse("2024-11-15T20:42:47.670046Z"))
        #expect(Timestamp.format(date) == "2024-11-15T20:42:47.670046Z")
        #expect(Timestamp.micros(Date(timeIntervalSince1970: .infinity)) == .max)
        #expect(Timestamp.parseAmzDate("20240101T000000Z") == 1_704_067_200_000_000)
    }
}
