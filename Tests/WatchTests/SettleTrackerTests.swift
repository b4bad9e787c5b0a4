import AssetSync
import Testing

/// The settle logic alone: times and stamps are given, nothing is read from disk.
@Suite("when a file is complete (SettleTracker, no I/O)")
struct SettleTrackerTests {
    /// A stamp written at `second` (its modification time), `size` bytes long.
    func stamp(_ size: Int64, at second: Double) -> FileStamp {
        FileStamp(size: size, mtimeNs: Int64(second * 1e9))
    }

    @Test("closed after writing, or renamed into place: ready once a later look at the events is handled")
    func closedOrMoved() {
        var tracker = SettleTracker(settle: 2)
        #expect(tracker.record(.written, path: "a", stamp: stamp(10, at: 100), now: 100) == .waiting)
        #expect(tracker.record(.closedAfterWrite, path: "a", stamp: stamp(10, at: 100), now: 100.25, barrier: 7) == .waiting)
        #expect(tracker.closedCount == 1)
        #expect(tracker.nextDeadline == nil)
        // However much time passes, not before look 7 is handled.
        #expect(tracker.due(now: 500, handled: 6) { _ in stamp(10, at: 100) }.isEmpty)
        #expect(tracker.due(now: 100.25, handled: 7) { _ in stamp(10, at: 100) } == ["a"])
        #expect(tracker.count == 0)
        #expect(tracker.record(.movedIn, path: "b", stamp: stamp(5, at: 50), now: 100, barrier: 8) == .waiting)
        #expect(tracker.due(now: 100, handled: 9) { _ in stamp(5, at: 50) } == ["b"])
    }

    @Test("a write after the close (its event handled late) means the file is not complete")
    func writtenAfterClose() {
        var tracker = SettleTracker(settle: 2)
        tracker.record(.closedAfterWrite, path: "a", stamp: stamp(10, at: 100), now: 100, barrier: 3)
        // The look that holds the write's event also passes the barrier: the write comes first.
        #expect(tracker.record(.written, path: "a", stamp: stamp(20, at: 100.05), now: 100.05) == .waiting)
        #expect(tracker.due(now: 100.5, handled: 3) { _ in stamp(20, at: 100.05) }.isEmpty)
        // A stamp that changed since the close tells too.
        tracker.record(.movedIn, path: "b", stamp: stamp(10, at: 100), now: 100, barrier: 3)
        #expect(tracker.due(now: 100.25, handled: 3) { _ in stamp(30, at: 100.08) }.isEmpty)
        #expect(tracker.isSettling("b"))
        #expect(tracker.record(.closedAfterWrite, path: "b", stamp: stamp(40, at: 101), now: 101, barrier: 4) == .waiting)
        #expect(tracker.due(now: 101, handled: 4) { _ in stamp(40, at: 101) } == ["b"])
    }

    @Test("an empty file closed or renamed in (touch, create then reopen) settles instead")
    func emptyClosed() {
        var tracker = SettleTracker(settle: 2)
        #expect(tracker.record(.closedAfterWrite, path: "a", stamp: stamp(0, at: 100), now: 100, barrier: 1) == .waiting)
        #expect(tracker.due(now: 100.5, handled: 1) { _ in stamp(0, at: 100) }.isEmpty)
        #expect(tracker.record(.written, path: "a", stamp: stamp(4096, at: 100.5), now: 100.5) == .waiting)
        #expect(tracker.record(.closedAfterWrite, path: "a", stamp: stamp(8192, at: 100.75), now: 100.75, barrier: 2)
            == .waiting)
        #expect(tracker.due(now: 100.75, handled: 2) { _ in stamp(8192, at: 100.75) } == ["a"])
        #expect(tracker.record(.movedIn, path: "b", stamp: stamp(0, at: 100), now: 100, barrier: 3) == .waiting)
        #expect(tracker.due(now: 100.5, handled: 3) { _ in stamp(0, at: 100) }.isEmpty)
        // Left empty: uploaded once the settle window has passed.
        #expect(tracker.due(now: 102, handled: 3) { _ in stamp(0, at: 100) } == ["b"])
    }

    @Test("a file still being written is never ready, however long the writing takes")
    func slowWriter() {
        var tracker = SettleTracker(settle: 2)
        var size: Int64 = 0
        var now = 1000.0
        // 40 chunks, one every half second: 20 seconds of writing, ten settle windows long.
        for _ in 0..<40 {
            size += 4096
            #expect(tracker.record(.written, path: "slow.bin", stamp: stamp(size, at: now), now: now) == .waiting)
            now += 0.5
            #expect(tracker.due(now: now, handled: 0) { _ in stamp(size, at: now - 0.5) }.isEmpty)
        }
        #expect(tracker.record(.closedAfterWrite, path: "slow.bin", stamp: stamp(size, at: now), now: now, barrier: 41)
            == .waiting)
        #expect(tracker.due(now: now, handled: 41) { _ in stamp(size, at: now) } == ["slow.bin"])
        #expect(tracker.due(now: now + 10, handled: 42) { _ in stamp(size, at: now) }.isEmpty)
    }

    @Test("without a close: ready once size and mtime stayed the same for the settle window")
    func settles() {
        var tracker = SettleTracker(settle: 2)
        tracker.record(.written, path: "a", stamp: stamp(10, at: 100), now: 100)
        #expect(tracker.nextDeadline == 102)
        #expect(tracker.due(now: 101.9, handled: 0) { _ in stamp(10, at: 100) }.isEmpty)
        #expect(tracker.due(now: 102, handled: 0) { _ in stamp(10, at: 100) } == ["a"])
        #expect(tracker.count == 0)
    }

    @Test("a change found at the deadline starts a new window")
    func changedAtDeadline() {
        var tracker = SettleTracker(settle: 2)
        tracker.record(.written, path: "a", stamp: stamp(10, at: 100), now: 100)
        #expect(tracker.due(now: 102, handled: 0) { _ in stamp(20, at: 101.5) }.isEmpty)
        #expect(tracker.isSettling("a"))
        #expect(tracker.due(now: 103.4, handled: 0) { _ in stamp(20, at: 101.5) }.isEmpty)
        #expect(tracker.due(now: 103.5, handled: 0) { _ in stamp(20, at: 101.5) } == ["a"])
    }

    @Test("a write resets the window even when the stamp looks the same (coarse clocks)")
    func writeResets() {
        var tracker = SettleTracker(settle: 2)
        tracker.record(.written, path: "a", stamp: stamp(10, at: 100), now: 100)
        tracker.record(.written, path: "a", stamp: stamp(10, at: 100), now: 101.5)
        #expect(tracker.due(now: 102.5, handled: 0) { _ in stamp(10, at: 100) }.isEmpty)
        #expect(tracker.due(now: 103.5, handled: 0) { _ in stamp(10, at: 100) } == ["a"])
    }

    @Test("found by a scan: an old file is ready at once, a fresh one settles")
    func foundByScan() {
        var tracker = SettleTracker(settle: 2)
        #expect(tracker.record(.seen, path: "old", stamp: stamp(10, at: 50), now: 100) == .ready)
        #expect(tracker.record(.seen, path: "fresh", stamp: stamp(10, at: 99.5), now: 100) == .waiting)
        #expect(tracker.due(now: 101.5, handled: 0) { _ in stamp(10, at: 99.5) } == ["fresh"])
        // A modification time in the future (another clock) counts from now.
        #expect(tracker.record(.seen, path: "future", stamp: stamp(10, at: 500), now: 100) == .waiting)
        #expect(tracker.due(now: 101.9, handled: 0) { _ in stamp(10, at: 500) }.isEmpty)
        #expect(tracker.due(now: 102, handled: 0) { _ in stamp(10, at: 500) } == ["future"])
    }

    @Test("seen again with the same stamp keeps its window; with another, starts over")
    func seenAgain() {
        var tracker = SettleTracker(settle: 2)
        tracker.record(.written, path: "a", stamp: stamp(10, at: 100), now: 100)
        tracker.record(.seen, path: "a", stamp: stamp(10, at: 100), now: 101)
        #expect(tracker.due(now: 102, handled: 0) { _ in stamp(10, at: 100) } == ["a"])
        tracker.record(.written, path: "b", stamp: stamp(10, at: 100), now: 100)
        tracker.record(.seen, path: "b", stamp: stamp(11, at: 101), now: 101)
        #expect(tracker.due(now: 102, handled: 0) { _ in stamp(11, at: 101) }.isEmpty)
        #expect(tracker.due(now: 103, handled: 0) { _ in stamp(11, at: 101) } == ["b"])
    }

    @Test("removed, gone at the deadline, or under a folder that went: forgotten")
    func forgotten() {
        var tracker = SettleTracker(settle: 2)
        tracker.record(.written, path: "a", stamp: stamp(1, at: 100), now: 100)
        #expect(tracker.record(.removed, path: "a", stamp: nil, now: 100.5) == .forgotten)
        #expect(tracker.record(.written, path: "b", stamp: nil, now: 100.5) == .forgotten)
        tracker.record(.written, path: "c", stamp: stamp(1, at: 100), now: 100)
        #expect(tracker.due(now: 103, handled: 0) { _ in nil }.isEmpty)
        tracker.record(.written, path: "d/x", stamp: stamp(1, at: 100), now: 100)
        tracker.record(.written, path: "d/e/y", stamp: stamp(1, at: 100), now: 100)
        tracker.record(.written, path: "dz", stamp: stamp(1, at: 100), now: 100)
        tracker.forget(under: "d")
        #expect(tracker.count == 1)
        #expect(tracker.isSettling("dz"))
        #expect(tracker.nextDeadline == 102)
    }

    @Test("settle 0: any write is ready at once; a close still waits for its look")
    func zeroSettle() {
        var tracker = SettleTracker(settle: 0)
        #expect(tracker.record(.written, path: "a", stamp: stamp(1, at: 100), now: 100) == .ready)
        #expect(tracker.record(.closedAfterWrite, path: "b", stamp: stamp(1, at: 100), now: 100, barrier: 2) == .waiting)
        #expect(tracker.due(now: 100, handled: 2) { _ in stamp(1, at: 100) } == ["b"])
        #expect(tracker.nextDeadline == nil)
    }

    @Test("many files settle independently, reported in order")
    func many() {
        var tracker = SettleTracker(settle: 2)
        for index in 0..<1000 {
            tracker.record(.written, path: "f\(index)", stamp: stamp(Int64(index), at: 100), now: 100 + Double(index % 2))
        }
        let first = tracker.due(now: 102, handled: 0) { path in stamp(Int64(path.dropFirst())!, at: 100) }
        #expect(first.count == 500)
        #expect(first == first.sorted())
        #expect(tracker.due(now: 103, handled: 0) { path in stamp(Int64(path.dropFirst())!, at: 100) }.count == 500)
        #expect(tracker.count == 0)
    }
}
