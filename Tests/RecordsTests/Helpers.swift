import Foundation
import PixieBrix
import Testing
import TestSupport
import Transfer
import WireFormat

/// The server's admin routes (seeding with chosen timestamps, archiving, the clock, tokens).
struct Admin {
    let fixture: Fixture

    @discardableResult
    func post(_ route: String, _ body: [String: Any], token: String? = nil) async throws -> [String: Any] {
        try await post(route, json: try JSONSerialization.data(withJSONObject: body), token: token)
    }

    @discardableResult
    func post(_ route: String, json data: Data, token: String? = nil) async throws -> [String: Any] {
        return try await withTransferEngine { engine in
            let request = HTTPRequest(method: .post, url: fixture.server.url.appendingPathComponent("_admin/\(route)/"),
                                      headers: ["Authorization": "Token \(token ?? fixture.server.token)",
                                                "Content-Type": "application/json"],
                                      body: .data(data))
            let response = try await engine.perform(request).validate()
            return try JSONSerialization.jsonObject(with: response.body) as? [String: Any] ?? [:]
        }
    }

    /// Seeds records (see ``record(_:_:created:updated:)``) into a database.
    func seed(_ database: String, _ records: [JSONValue]) async throws {
        let body = JSONValue.object(["database": .string(database), "records": .array(records)])
        try await post("records", json: Data(body.jsonText.utf8))
    }

    func advanceClock(seconds: Double) async throws {
        try await post("clock", ["advance": seconds])
    }

    func restrictedToken() async throws -> String {
        try #require(try await post("tokens", [:])["token"] as? String)
    }
}

/// Runs the built `assets ARGS...` against the fixture's server; returns its real exit code and what it
/// printed on stderr.
@discardableResult
func assets(_ arguments: [String], fixture: Fixture, token: String? = nil, url: URL? = nil) async throws
    -> (status: Int32, message: String) {
    let tokenFile = fixture.scratch.path("token-\(UUID().uuidString)")
    try Data((token ?? fixture.server.token).utf8).write(to: URL(fileURLWithPath: tokenFile))
    let all = arguments + ["--url", (url ?? fixture.server.url).absoluteString, "--token-file", tokenFile, "--quiet"]
    let outcome = try await CLI.run(all)
    return (outcome.status, outcome.stderr)
}

func read(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

/// The ids of a JSON Lines file, in order.
func jsonLinesIDs(_ path: String) throws -> [String] {
    try String(decoding: read(path), as: UTF8.self).split(separator: "\n").map { line in
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return object?["id"] as? String ?? "?"
    }
}

/// Every row of a CSV file, header first.
func csvRows(_ data: Data) throws -> [[String]] {
    var reader = CSVReader(data)
    var rows: [[String]] = []
    while let row = try reader.nextRow() { rows.append(row) }
    return rows
}

/// `2024-01-01` + `offset` days at `time`, as an API timestamp.
func day(_ offset: Int, _ time: String = "12:00:00", from start: String = "2024-01-01") -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withFullDate]
    formatter.timeZone = TimeZone(identifier: "UTC")
    let base = formatter.date(from: start)!
    let date = base.addingTimeInterval(Double(offset) * 86_400)
    return formatter.string(from: date) + "T" + time + "Z"
}

/// A record for ``Admin/seed(_:_:)``: data members in the given order, chosen timestamps.
func record(_ id: String, _ data: KeyValuePairs<String, JSONValue>, created: String, updated: String? = nil) -> JSONValue {
    var members: [JSONValue.Member] = [.init(key: "id", value: .string(id)), .init(key: "data", value: .object(data)),
                                       .init(key: "created_at", value: .string(created))]
    if let updated { members.append(.init(key: "updated_at", value: .string(updated))) }
    return .object(members)
}
