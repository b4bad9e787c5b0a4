import AssetSync

/// Prints what `pull --delete` removed and `push --delete` withdrew, what they kept and why.
struct MirrorOutput {
    var json: Bool

    /// Runs a pull or push with `--delete`; when it throws, says first that nothing went, then rethrows.
    static func sayingWhyNothingWent<R>(verb: String, _ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch {
            printError("assets: --delete: nothing \(verb): the run stopped before the listing was read whole and "
                + "every file synced")
            throw error
        }
    }

    func print(_ deletion: PullDeletion, dryRun: Bool) {
        print(done: deletion.removed, kept: deletion.kept, refusal: deletion.refusal, dryRun: dryRun,
              action: dryRun ? "would-delete" : "deleted", verb: "removed",
              reason: "its filename no longer has an uploaded asset")
    }

    func print(_ withdrawal: PushWithdrawal, dryRun: Bool) {
        print(done: withdrawal.withdrawn, kept: withdrawal.kept, refusal: withdrawal.refusal, dryRun: dryRun,
              action: dryRun ? "would-withdraw" : "withdrawn", verb: "withdrawn",
              reason: "gone from the folder; assets restore undoes it")
    }

    private func print(done: [String], kept: [ScanProblem], refusal: String?, dryRun: Bool, action: String, verb: String,
                       reason: String) {
        if let refusal {
            if json {
                printOut(#"{"event":"delete-refused","reason":\#(jsonString(refusal))}"#)
            } else {
                printError("assets: --delete: nothing \(verb): \(refusal)")
            }
            return
        }
        for path in done {
            if json {
                printOut(#"{"event":\#(jsonString(action)),"path":\#(jsonString(path))}"#)
            } else {
                printOut("\(action.replacingOccurrences(of: "-", with: " "))  \(path)  (\(reason))")
            }
        }
        for problem in kept {
            if json {
                printOut(#"{"event":"delete-kept","path":\#(jsonString(problem.path)),"reason":\#(jsonString(problem.reason))}"#)
            } else {
                printError("assets: --delete: kept \(problem.path): \(problem.reason)")
            }
        }
        if !json { printOut("\(done.count) \(dryRun ? "would be " : "")\(verb)") }
    }
}
