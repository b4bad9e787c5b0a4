import Foundation
@testable import PixieBrix
import Testing
import Transfer

@Suite("records query encoding")
struct EncodingTests {
    @Test("field names and values with spaces and symbols are percent-encoded strictly")
    func filterQuery() throws {
        try withEngine { engine in
            let client = try PixieBrixClient(baseURL: URL(string: "http://127.0.0.1:9")!, token: nil, engine: engine)
            let filter = RecordFilter(startDate: "2024-01-01", equals: [.init(field: "user email", value: "david@pixiebrix.com"),
                                                                    .init(field: "a&b=c/d", value: "x+y z")],
                                      null: ["first name"], notNull: ["ünï"])
            let url = client.url("/api/databases/db/records/", query: filter.queryItems)
            #expect(url.query == "start_date=2024-01-01&data__user%20email=david%40pixiebrix.com"
                + "&data__a%26b%3Dc%2Fd=x%2By%20z&data__first%20name__isnull=true&data__%C3%BCn%C3%AF__isnull=false")
        }
    }

    @Test("dates are calendar dates written YYYY-MM-DD")
    func dates() {
        #expect(RecordFilter.isDate("2024-02-29"))
        #expect(!RecordFilter.isDate("2023-02-29"))
        #expect(!RecordFilter.isDate("2024-13-01"))
        #expect(!RecordFilter.isDate("2024-1-01"))
        #expect(!RecordFilter.isDate("2024-01-01T00:00:00Z"))
        #expect(!RecordFilter.isDate("yesterday"))
    }
}

private func withEngine(_ body: (TransferEngine) throws -> Void) throws {
    let engine = TransferEngine()
    try body(engine)
}
