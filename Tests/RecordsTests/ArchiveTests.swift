import AssetSync
import Foundation
import PixieBrix
import Synchronization
import Testing
import TestSupport
import WireFormat

@Suite("assets archives pull")
struct ArchiveTests {
    /// `days` dates from 2023-03-01, with `perDay` records last updated on each; record `d0-0` is written twice on
    /// day 0 (its archive must hold the later state only).
    static func seedDays(_ fixture: Fixture, days: Int, perDay: Int) async throws {
        var records: [JSONValue] = []
        for dayIndex in 0..<days {
            for index in 0..<perDay {
                let stamp = day(dayIndex, "08:00:00", from: "2023-03-01")
                records.append(record("d\(dayIndex)-\(index)", ["day": .number(String(dayIndex)), "state": "first"],
                                      created: stamp, updated: stamp))
            }
        }
        let admin = Admin(fixture: fixture)
        try await admin.seed(fixture.database, records)
        try await admin.seed(fixture.database, [record("d0-0", ["day": 0, "state": "last"],
                                                       created: day(0, "08:00:00", from: "2023-03-01"),
                                                       updated: day(0, "20:00:00", from: "2023-03-01"))])
    }

    static func puller(_ fixture: Fixture, folder: String, since: String? = nil, transfers: Int = 4,
                       onEvent: @escaping @Sendable (ArchivePullEvent) async -> Void = { _ in }) -> ArchivePuller {
        ArchivePuller(client: fixture.client, organization: fixture.server.organizationID, database: fixture.database,
                      folder: folder, options: ArchivePuller.Options(since: since, transfers: transfers), onEvent: onEvent)
    }

    @Test("after the retention rule: every archived date pulled, an expired link listed again, complete dates skipped")
    func retentionThenPull() async throws {
        try await withFixture { fixture in
            let admin = Admin(fixture: fixture)
            try await Self.seedDays(fixture, days: 10, perDay: 5)
            // The retention rule: keep at most 15 records, so the 7 oldest dates (35 records) are archived.
            let outcome = try await admin.post("archive", ["database": fixture.database, "max_records": 15])
            #expect((outcome["archived_dates"] as? [String])?.count == 7)

            // Archived records are no longer listed by the records endpoint.
            let live = fixture.scratch.path("live.jsonl")
            #expect(try await assets(["records", "--database", fixture.database, "--format", "jsonl", "-o", live],
                                     fixture: fixture).status == 0)
            #expect(try jsonLinesIDs(live).count == 15)

            // One at a time; after the first file, two hours pass: every other link has expired.
            let folder = try fixture.scratch.folder("archives")
            let events = EventLog()
            let summary = try await Self.puller(fixture, folder: folder, transfers: 1) { event in
                events.append(event)
                if case .downloaded = event, events.count(where: { if case .downloaded = $0 { true } else { false } }) == 1 {
                    try? await admin.advanceClock(seconds: 7200)
                }
            }.run()
            #expect(summary.downloaded == 7)
            #expect(summary.failed.isEmpty)
            #expect(summary.relists == 1)
            #expect(events.count(where: { if case .expired = $0 { true } else { false } }) == 6)

            let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            #expect(files == (0..<7).map { String(day($0, from: "2023-03-01").prefix(10)) + ".jsonl" })
            for (index, file) in files.enumerated() {
                let lines = String(decoding: try read(folder + "/" + file), as: UTF8.self).split(separator: "\n")
                let records = try lines.map { try JSONValue(parsing: Data($0.utf8)) }
                #expect(Set(records.compactMap { $0["id"]?.stringValue }) == Set((0..<5).map { "d\(index)-\($0)" }))
                if index == 0 {
                    let d00 = records.first { $0["id"]?.stringValue == "d0-0" }
                    #expect(d00?["data"]?["state"]?.stringValue == "last")
                }
            }

            // Again: everything is complete. With --since through the CLI: nothing to do either.
            let again = try await Self.puller(fixture, folder: folder).run()
            #expect(again.downloaded == 0 && again.alreadyComplete == 7)
            let since = try await assets(["archives", "pull", folder, "--organization", fixture.server.organizationID,
                                          "--database", fixture.database, "--since", "2023-03-05"], fixture: fixture)
            #expect(since.status == 0)
            let other = try fixture.scratch.folder("since")
            #expect(try await assets(["archives", "pull", other, "--organization", fixture.server.organizationID,
                                      "--database", fixture.database, "--since", "2023-03-05"], fixture: fixture).status == 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: other).sorted()
                == ["2023-03-05.jsonl", "2023-03-06.jsonl", "2023-03-07.jsonl"])

            // A record written into an archived date and archived again: that date's archive is newer than the
            // local file, so only it is fetched again.
            try await admin.seed(fixture.database, [record("late", ["day": 1], created: day(1, "09:00:00", from: "2023-03-01"),
                                                           updated: day(1, "09:00:00", from: "2023-03-01"))])
            try await admin.post("archive", ["database": fixture.database, "before_date": "2023-03-08"])
            let refreshed = try await Self.puller(fixture, folder: folder).run()
            #expect(refreshed.downloaded == 1 && refreshed.alreadyComplete == 6)
            let second = String(decoding: try read(folder + "/2023-03-02.jsonl"), as: UTF8.self)
            #expect(second.contains(#""id":"late""#) && second.contains(#""id":"d1-4""#))
        }
    }

    @Test("an interrupted pull, with half-written and stale parts, finishes the rest on the next run; bytes equal")
    func interruptAndResume() async throws {
        try await withFixture { fixture in
            try await Self.seedDays(fixture, days: 30, perDay: 40)
            try await Admin(fixture: fixture).post("archive", ["database": fixture.database, "before_date": "2023-04-01"])
            let reference = try fixture.scratch.folder("reference")
            #expect(try await Self.puller(fixture, folder: reference).run().downloaded == 30)
            let expected = try treeDigest(reference)

            // Cancelled once 10 files are in.
            let folder = try fixture.scratch.folder("interrupted")
            let events = EventLog()
            let task = TaskBox()
            task.set(Task {
                try await Self.puller(fixture, folder: folder, transfers: 2) { event in
                    events.append(event)
                    if events.count(where: { if case .downloaded = $0 { true } else { false } }) == 10 { task.cancel() }
                }.run()
            })
            _ = try? await task.value()
            let complete = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jsonl") }
            #expect(complete.count >= 10 && complete.count < 30)

            // A half-written file for a date that is not complete yet, as a kill mid-download leaves it.
            let missing = expected.keys.sorted().filter { !complete.contains($0) }
            #expect(missing.count >= 2)
            let bytes = try read(reference + "/" + missing[0])
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: folder + "/" + missing[0] + ".part"))
            // And one whose part is not a prefix of the file (say, of an older version of it): started over.
            try Data(repeating: 0x41, count: 100).write(to: URL(fileURLWithPath: folder + "/" + missing[1] + ".part"))

            let summary = try await Self.puller(fixture, folder: folder).run()
            #expect(summary.alreadyComplete == complete.count)
            #expect(summary.downloaded == 30 - complete.count)
            #expect(summary.failed.isEmpty)
            #expect(try treeDigest(folder) == expected)
        }
    }
}

/// Events seen by a puller's callback.
final class EventLog: Sendable {
    private let events = Mutex<[ArchivePullEvent]>([])
    func append(_ event: ArchivePullEvent) { events.withLock { $0.append(event) } }
    func count(where predicate: (ArchivePullEvent) -> Bool) -> Int { events.withLock { $0.filter(predicate).count } }
}

/// A task that its own work can cancel.
final class TaskBox: Sendable {
    private let task = Mutex<Task<ArchivePullSummary, any Error>?>(nil)
    func set(_ task: Task<ArchivePullSummary, any Error>) { self.task.withLock { $0 = task } }
    func cancel() { task.withLock { $0 }?.cancel() }
    func value() async throws -> ArchivePullSummary? { try await task.withLock { $0 }?.value }
}
