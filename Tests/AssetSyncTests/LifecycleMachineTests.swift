import Foundation
import PixieBrix
import Testing
import Transfer

@testable import AssetSync

/// What one (state, event) cell of a lifecycle's table must give.
enum LifecycleCell<Action: Equatable & Sendable, State: Equatable & Sendable>: Equatable, Sendable {
    /// This action, leaving the lifecycle in this state.
    case action(Action, State)
    /// An event that cannot happen in this state: the job fails with an internal error.
    case unexpected
}

private let budget = RetryBudget(retries: 10, duration: .seconds(900), baseDelay: .milliseconds(250), maxDelay: .seconds(30))
private let firstWait = RetryWait(ceiling: .milliseconds(250), retryAfter: .seconds(3))
private let firstWaitNoHint = RetryWait(ceiling: .milliseconds(250), retryAfter: nil)

@Suite("the push lifecycle as a state machine")
struct PushLifecycleTableTests {
    typealias Row = (event: PushEvent, cells: [PushState: LifecycleCell<PushAction, PushState>])

    /// Every event in every state. Terminal states ignore everything (checked below for each event).
    static let table: [Row] = [
        (.resumed, [
            .queued: .action(.checkFile, .queued),
            .creating: .action(.recordPossibleOrphan("the process stopped during the create; the server may hold an unmarked asset",
                                                     then: .create), .creating),
            .created: .action(.checkFile, .created),
            .uploading: .action(.checkFile, .uploading),
            .uploaded: .action(.checkFile, .uploaded),
            .marking: .action(.checkFile, .marking),
            .marked: .action(.run(.verify), .verifying),
            .verifying: .action(.run(.verify), .verifying),
        ]),
        (.localFileUnchanged, [
            .queued: .action(.run(.create), .creating),
            .creating: .action(.run(.create), .creating),
            .created: .action(.run(.upload), .uploading),
            .uploading: .action(.run(.upload), .uploading),
            .uploaded: .action(.run(.mark), .marking),
            .marking: .action(.run(.mark), .marking),
            .marked: .action(.run(.verify), .verifying),
            .verifying: .action(.run(.verify), .verifying),
        ]),
        (.localFileChanged, [
            .queued: .action(.restart(reason: "the file changed before its upload finished"), .queued),
            .creating: .action(.restart(reason: "the file changed before its upload finished"), .queued),
            .created: .action(.restart(reason: "the file changed before its upload finished"), .queued),
            .uploading: .action(.restart(reason: "the file changed before its upload finished"), .queued),
            .uploaded: .action(.restart(reason: "the file changed before its upload finished"), .queued),
            .marking: .action(.restart(reason: "the file changed before its upload finished"), .queued),
            .marked: .unexpected,
            .verifying: .unexpected,
        ]),
        (.localFileMissing, [
            .queued: .action(.fail(reason: "the file disappeared before its upload finished"), .failed),
            .creating: .action(.fail(reason: "the file disappeared before its upload finished"), .failed),
            .created: .action(.fail(reason: "the file disappeared before its upload finished"), .failed),
            .uploading: .action(.fail(reason: "the file disappeared before its upload finished"), .failed),
            .uploaded: .action(.fail(reason: "the file disappeared before its upload finished"), .failed),
            .marking: .action(.fail(reason: "the file disappeared before its upload finished"), .failed),
            .marked: .unexpected,
            .verifying: .unexpected,
        ]),
        (.localFileUnreadable("permission denied"), [
            .queued: .action(.fail(reason: "cannot read the file: permission denied"), .failed),
            .creating: .action(.fail(reason: "cannot read the file: permission denied"), .failed),
            .created: .action(.fail(reason: "cannot read the file: permission denied"), .failed),
            .uploading: .action(.fail(reason: "cannot read the file: permission denied"), .failed),
            .uploaded: .action(.fail(reason: "cannot read the file: permission denied"), .failed),
            .marking: .action(.fail(reason: "cannot read the file: permission denied"), .failed),
            .marked: .unexpected,
            .verifying: .unexpected,
        ]),
        (.succeeded, [
            .queued: .unexpected,
            .creating: .action(.checkFile, .created),
            .created: .unexpected,
            .uploading: .action(.checkFile, .uploaded),
            .uploaded: .unexpected,
            .marking: .action(.run(.verify), .verifying),
            .marked: .unexpected,
            .verifying: .action(.finish, .done),
        ]),
        (.failed(.transient("HTTP 429", retryAfter: .seconds(3)), elapsed: .seconds(1)), [
            .queued: .unexpected,
            .creating: .action(.retry(.create, after: firstWait, possibleOrphan: nil), .creating),
            .created: .unexpected,
            .uploading: .action(.retry(.upload, after: firstWait, possibleOrphan: nil), .uploading),
            .uploaded: .unexpected,
            .marking: .action(.retry(.mark, after: firstWait, possibleOrphan: nil), .marking),
            .marked: .unexpected,
            .verifying: .action(.retry(.verify, after: firstWait, possibleOrphan: nil), .verifying),
        ]),
        (.failed(.maybeApplied("HTTP 500", retryAfter: nil), elapsed: .seconds(1)), [
            .queued: .unexpected,
            .creating: .action(.retry(.create, after: firstWaitNoHint,
                                      possibleOrphan: "a create failed after it may have been saved (HTTP 500); created again"),
                               .creating),
            .created: .unexpected,
            .uploading: .action(.retry(.upload, after: firstWaitNoHint, possibleOrphan: nil), .uploading),
            .uploaded: .unexpected,
            .marking: .action(.retry(.mark, after: firstWaitNoHint, possibleOrphan: nil), .marking),
            .marked: .unexpected,
            .verifying: .action(.retry(.verify, after: firstWaitNoHint, possibleOrphan: nil), .verifying),
        ]),
        (.failed(.refused("HTTP 403"), elapsed: .zero), [
            .queued: .unexpected,
            .creating: .action(.stopRun, .creating),
            .created: .unexpected,
            .uploading: .action(.recreate(reason: "storage refused the upload URL (HTTP 403)"), .queued),
            .uploaded: .unexpected,
            .marking: .action(.stopRun, .marking),
            .marked: .unexpected,
            .verifying: .action(.stopRun, .verifying),
        ]),
        (.failed(.stopsRun("connection refused"), elapsed: .zero), [
            .queued: .unexpected,
            .creating: .action(.stopRun, .creating),
            .created: .unexpected,
            .uploading: .action(.stopRun, .uploading),
            .uploaded: .unexpected,
            .marking: .action(.stopRun, .marking),
            .marked: .unexpected,
            .verifying: .action(.stopRun, .verifying),
        ]),
        (.failed(.permanent("HTTP 404"), elapsed: .zero), [
            .queued: .unexpected,
            .creating: .action(.fail(reason: "HTTP 404"), .failed),
            .created: .unexpected,
            .uploading: .action(.fail(reason: "HTTP 404"), .failed),
            .uploaded: .unexpected,
            .marking: .action(.fail(reason: "HTTP 404"), .failed),
            .marked: .unexpected,
            .verifying: .action(.fail(reason: "HTTP 404"), .failed),
        ]),
        (.uploadLinkExpired, [
            .queued: .unexpected, .creating: .unexpected, .created: .unexpected,
            .uploading: .action(.recreate(reason: "its upload URL expired before the upload"), .queued),
            .uploaded: .unexpected, .marking: .unexpected, .marked: .unexpected, .verifying: .unexpected,
        ]),
        (.fileChangedDuringUpload, [
            .queued: .unexpected, .creating: .unexpected, .created: .unexpected,
            .uploading: .action(.restart(reason: "the file changed during its upload"), .queued),
            .uploaded: .unexpected, .marking: .unexpected, .marked: .unexpected, .verifying: .unexpected,
        ]),
        (.etagMismatch("storage's ETag a does not match the file's MD5 b"), [
            .queued: .unexpected, .creating: .unexpected, .created: .unexpected,
            .uploading: .action(.fail(reason: "storage's ETag a does not match the file's MD5 b"), .failed),
            .uploaded: .unexpected, .marking: .unexpected, .marked: .unexpected, .verifying: .unexpected,
        ]),
        (.assetIdMissing, [
            .queued: .unexpected, .creating: .unexpected, .created: .unexpected, .uploading: .unexpected,
            .uploaded: .unexpected,
            .marking: .action(.recreate(reason: "no asset id was recorded"), .queued),
            .marked: .unexpected,
            .verifying: .action(.recreate(reason: "no asset id was recorded"), .queued),
        ]),
        (.reset, [
            .queued: .action(.checkFile, .queued),
            .creating: .unexpected, .created: .unexpected, .uploading: .unexpected, .uploaded: .unexpected,
            .marking: .unexpected, .marked: .unexpected, .verifying: .unexpected,
        ]),
    ]

    @Test("every state × every event gives the action written in the table")
    func everyStateAndEvent() {
        #expect(Self.table.count == 16)
        for (event, cells) in Self.table {
            for state in PushState.allCases {
                var lifecycle = PushLifecycle(state: state, recreations: 0, budget: budget)
                let action = lifecycle.handle(event)
                if state.isTerminal {
                    #expect(cells[state] == nil, "terminal states are not in the table")
                    #expect(action == .ignore, "\(event) in \(state)")
                    #expect(lifecycle.state == state)
                    continue
                }
                switch cells[state] {
                case .action(let expected, let next)?:
                    #expect(action == expected, "\(event) in \(state)")
                    #expect(lifecycle.state == next, "\(event) in \(state)")
                case .unexpected?:
                    guard case .fail(let reason) = action else {
                        Issue.record("\(event) in \(state) gave \(action), not a failure")
                        continue
                    }
                    #expect(reason.hasPrefix("internal error: "), "\(event) in \(state)")
                    #expect(lifecycle.state == .failed)
                case nil:
                    Issue.record("the table has no cell for \(event) in \(state)")
                }
            }
        }
    }

    @Test("transient failures back off (250 ms, 500 ms, 1 s, …, capped at 30 s) and give up after the retries")
    func budgetOfRetries() {
        var lifecycle = PushLifecycle(state: .uploading, budget: budget)
        var ceilings: [Duration] = []
        for _ in 0..<10 {
            guard case .retry(.upload, let wait, nil) = lifecycle.handle(.failed(.transient("HTTP 503", retryAfter: nil),
                                                                                  elapsed: .seconds(1))) else {
                Issue.record("expected a retry")
                return
            }
            ceilings.append(wait.ceiling)
        }
        #expect(ceilings == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8),
                             .seconds(16), .seconds(30), .seconds(30), .seconds(30)])
        #expect(lifecycle.retries == 10)
        #expect(lifecycle.handle(.failed(.transient("HTTP 503", retryAfter: nil), elapsed: .seconds(1)))
            == .fail(reason: "HTTP 503 (gave up after 10 retries)"))
        #expect(lifecycle.state == .failed)
    }

    @Test("a job gives up once its time in the run is spent, also when Retry-After would outlast it")
    func budgetOfTime() {
        var late = PushLifecycle(state: .marking, budget: budget)
        #expect(late.handle(.failed(.transient("HTTP 429", retryAfter: nil), elapsed: .seconds(900)))
            == .fail(reason: "HTTP 429 (gave up after 0 retries)"))
        var waitTooLong = PushLifecycle(state: .marking, budget: budget)
        #expect(waitTooLong.handle(.failed(.transient("HTTP 429", retryAfter: .seconds(600)), elapsed: .seconds(301)))
            == .fail(reason: "HTTP 429 (gave up after 0 retries)"))
        var none = PushLifecycle(state: .marking, budget: RetryBudget(retries: 0))
        #expect(none.handle(.failed(.maybeApplied("HTTP 500", retryAfter: nil), elapsed: .zero))
            == .fail(reason: "HTTP 500 (gave up after 0 retries)"))
    }

    @Test("a refused or expired upload link recreates at most three times, then fails")
    func recreationLimit() {
        var lifecycle = PushLifecycle(state: .uploading, recreations: 2, budget: budget)
        #expect(lifecycle.handle(.uploadLinkExpired) == .recreate(reason: "its upload URL expired before the upload"))
        #expect(lifecycle.recreations == 3)
        #expect(lifecycle.handle(.reset) == .checkFile)
        #expect(lifecycle.handle(.localFileUnchanged) == .run(.create))
        #expect(lifecycle.handle(.succeeded) == .checkFile)
        #expect(lifecycle.handle(.localFileUnchanged) == .run(.upload))
        #expect(lifecycle.handle(.failed(.refused("HTTP 403"), elapsed: .zero))
            == .fail(reason: "storage refused the upload URL (HTTP 403), 3 times"))
    }

    @Test("a whole push, step by step, from queued to done")
    func happyPath() {
        var lifecycle = PushLifecycle(state: .queued, budget: budget)
        var actions: [PushAction] = [lifecycle.handle(.resumed)]
        for event: PushEvent in [.localFileUnchanged, .succeeded, .localFileUnchanged, .succeeded, .localFileUnchanged,
                                 .succeeded, .succeeded] {
            actions.append(lifecycle.handle(event))
        }
        #expect(actions == [.checkFile, .run(.create), .checkFile, .run(.upload), .checkFile, .run(.mark), .run(.verify),
                            .finish])
        #expect(lifecycle.state == .done)
        #expect(lifecycle.retries == 0)
    }
}

@Suite("the pull lifecycle as a state machine")
struct PullLifecycleTableTests {
    static let table: [(event: PullEvent, cells: [PullState: LifecycleCell<PullAction, PullState>])] = [
        (.resumed, [
            .queued: .action(.run(.download), .downloading),
            .downloading: .action(.run(.download), .downloading),
            .verifying: .action(.run(.verify), .verifying),
        ]),
        (.succeeded, [
            .queued: .unexpected,
            .downloading: .action(.run(.verify), .verifying),
            .verifying: .action(.finish, .done),
        ]),
        (.failed(.transient("HTTP 429", retryAfter: .seconds(3)), elapsed: .seconds(1)), [
            .queued: .unexpected,
            .downloading: .action(.retry(.download, after: firstWait), .downloading),
            .verifying: .action(.retry(.verify, after: firstWait), .verifying),
        ]),
        (.failed(.maybeApplied("connection lost", retryAfter: nil), elapsed: .seconds(1)), [
            .queued: .unexpected,
            .downloading: .action(.retry(.download, after: firstWaitNoHint), .downloading),
            .verifying: .action(.retry(.verify, after: firstWaitNoHint), .verifying),
        ]),
        (.failed(.refused("HTTP 403"), elapsed: .zero), [
            .queued: .unexpected,
            .downloading: .action(.run(.download), .downloading),
            .verifying: .action(.stopRun, .verifying),
        ]),
        (.failed(.stopsRun("connection refused"), elapsed: .zero), [
            .queued: .unexpected,
            .downloading: .action(.stopRun, .downloading),
            .verifying: .action(.stopRun, .verifying),
        ]),
        (.failed(.permanent("disk full"), elapsed: .zero), [
            .queued: .unexpected,
            .downloading: .action(.fail(reason: "disk full", removePart: false), .failed),
            .verifying: .action(.fail(reason: "disk full", removePart: false), .failed),
        ]),
        (.contentMismatch("downloaded 3 bytes, expected 4"), [
            .queued: .unexpected,
            .downloading: .unexpected,
            .verifying: .action(.fail(reason: "downloaded 3 bytes, expected 4; the partial file was removed", removePart: true),
                                .failed),
        ]),
    ]

    @Test("every state × every event gives the action written in the table")
    func everyStateAndEvent() {
        #expect(Self.table.count == 8)
        for (event, cells) in Self.table {
            for state in PullState.allCases {
                var lifecycle = PullLifecycle(state: state, budget: budget)
                let action = lifecycle.handle(event)
                if state.isTerminal {
                    #expect(cells[state] == nil)
                    #expect(action == .ignore, "\(event) in \(state)")
                    continue
                }
                switch cells[state] {
                case .action(let expected, let next)?:
                    #expect(action == expected, "\(event) in \(state)")
                    #expect(lifecycle.state == next, "\(event) in \(state)")
                case .unexpected?:
                    guard case .fail(let reason, false) = action else {
                        Issue.record("\(event) in \(state) gave \(action), not a failure")
                        continue
                    }
                    #expect(reason.hasPrefix("internal error: "))
                    #expect(lifecycle.state == .failed)
                case nil:
                    Issue.record("the table has no cell for \(event) in \(state)")
                }
            }
        }
    }

    @Test("a second refused link fails the job; the listing retries within the budget only on transient failures")
    func linkRefusalsAndListing() {
        var lifecycle = PullLifecycle(state: .downloading, budget: budget)
        #expect(lifecycle.handle(.failed(.refused("HTTP 403"), elapsed: .zero)) == .run(.download))
        #expect(lifecycle.handle(.failed(.refused("HTTP 403"), elapsed: .zero))
            == .fail(reason: "storage refused the download link twice (HTTP 403)", removePart: false))
        #expect(PullLifecycle.listingFailed(.transient("HTTP 503", retryAfter: nil), retriesMade: 2, elapsed: .seconds(1),
                                            budget: budget) == RetryWait(ceiling: .seconds(1)))
        #expect(PullLifecycle.listingFailed(.transient("HTTP 503", retryAfter: nil), retriesMade: 10, elapsed: .seconds(1),
                                            budget: budget) == nil)
        #expect(PullLifecycle.listingFailed(.permanent("HTTP 404"), retriesMade: 0, elapsed: .zero, budget: budget) == nil)
    }
}

@Suite("failures classified for the lifecycles; retry pauses")
struct StepFailureTests {
    static func http(_ status: Int, kind: PixieBrixError.Kind, retryAfter: Duration? = nil) -> PixieBrixError {
        var error = PixieBrixError(kind: kind, message: "creating an asset: HTTP \(status)", status: status)
        error.retryAfter = retryAfter
        return error
    }

    static func transport(_ failure: ConnectionFailure) -> PixieBrixError {
        PixieBrixError(kind: .unreachable, message: "creating an asset failed", connectionFailure: failure)
    }

    @Test("429 and 502–504 are transient, 500 and broken connections may have been applied, no connection stops the run")
    func classification() {
        #expect(StepFailure.classify(Self.http(429, kind: .throttled, retryAfter: .seconds(2)))
            == .transient("creating an asset: HTTP 429", retryAfter: .seconds(2)))
        #expect(StepFailure.classify(Self.http(503, kind: .server)) == .transient("creating an asset: HTTP 503", retryAfter: nil))
        #expect(StepFailure.classify(Self.http(500, kind: .server))
            == .maybeApplied("creating an asset: HTTP 500", retryAfter: nil))
        #expect(StepFailure.classify(Self.transport(.connectionLost)) == .maybeApplied("creating an asset failed", retryAfter: nil))
        #expect(StepFailure.classify(Self.transport(.timeout)) == .maybeApplied("creating an asset failed", retryAfter: nil))
        #expect(StepFailure.classify(Self.transport(.connect)) == .stopsRun("creating an asset failed"))
        #expect(StepFailure.classify(Self.transport(.dns)) == .stopsRun("creating an asset failed"))
        #expect(StepFailure.classify(Self.http(403, kind: .forbidden)) == .refused("creating an asset: HTTP 403"))
        #expect(StepFailure.classify(Self.http(401, kind: .unauthorized)) == .stopsRun("creating an asset: HTTP 401"))
        #expect(StepFailure.classify(Self.http(404, kind: .notFound)) == .permanent("creating an asset: HTTP 404"))
        #expect(StepFailure.classify(Self.http(400, kind: .invalidRequest)) == .permanent("creating an asset: HTTP 400"))
    }

    @Test("full jitter below the ceiling, never under Retry-After")
    func pauses() {
        let wait = RetryWait(ceiling: .seconds(8), retryAfter: nil)
        #expect(wait.duration(unitRandom: 0) == .zero)
        #expect(wait.duration(unitRandom: 0.5) == .seconds(4))
        #expect(wait.duration(unitRandom: 1) == .seconds(8))
        #expect(wait.duration(unitRandom: 7) == .seconds(8))
        #expect(wait.duration(unitRandom: .nan) == .zero)
        let hinted = RetryWait(ceiling: .seconds(8), retryAfter: .seconds(5))
        #expect(hinted.duration(unitRandom: 0) == .seconds(5))
        #expect(hinted.duration(unitRandom: 1) == .seconds(8))
    }

    @Test("the runners decide nothing themselves: no error classification, limits or budgets in their sources")
    func runnersHoldNoDecisions() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/AssetSync")
        for file in ["Push/PushRunner.swift", "Pull/PullRunner.swift"] {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains("lifecycle.handle("), "\(file) does not go through its lifecycle")
            for banned in ["isTransient", ".throttled", ".server", ".unreachable", ".forbidden", "maxRecreations",
                           "recreations <", "for attempt", "retries <", "status == 5", "RetryBudget("] {
                #expect(!text.contains(banned), "\(file) decides on its own: it contains \(banned)")
            }
        }
    }
}
