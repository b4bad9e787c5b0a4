import Testing
import TestSupport

@testable import AssetSync

@Suite("the push lifecycle")
struct LifecycleTests {
    @Test("every non-terminal state leads to exactly one step, and that step's states surround it")
    func stepsCoverStates() {
        for state in PushState.allCases {
            guard let step = PushLifecycle.nextStep(from: state) else {
                #expect(state.isTerminal)
                continue
            }
            #expect(!state.isTerminal)
            // Resuming from a step's running state re-runs that same step.
            #expect(PushLifecycle.nextStep(from: step.runningState) == step)
        }
    }

    @Test("the steps chain queued → … → done in DESIGN.md's order")
    func chain() {
        var state = PushState.queued
        var visited: [PushState] = [state]
        while let step = PushLifecycle.nextStep(from: state) {
            visited.append(step.runningState)
            state = step.finishedState
            visited.append(state)
        }
        #expect(visited == [.queued, .creating, .created, .uploading, .uploaded, .marking, .marked, .verifying, .done])
    }

    @Test("only a resume from creating may have left an orphan; a local change restarts only before the mark")
    func resumeRules() {
        #expect(PushState.allCases.filter(PushLifecycle.mayHaveOrphaned(resumingFrom:)) == [.creating])
        #expect(PushLifecycle.restartsOnLocalChange(in: .uploaded))
        #expect(!PushLifecycle.restartsOnLocalChange(in: .marked))
    }
}

@Suite("ignore rules and globs")
struct IgnoreRulesTests {
    @Test("globs", arguments: [
        ("*.png", "a.png", true), ("*.png", "dir/a.png", false), ("**/*.png", "dir/sub/a.png", true),
        ("**/*.png", "a.png", true), ("a/**", "a/b/c", true), ("a?c", "abc", true), ("a?c", "a/c", false),
        ("[a-c]x", "bx", true), ("[!a-c]x", "bx", false), ("\\*", "*", true), ("[x", "[x", true),
    ])
    func glob(pattern: String, path: String, matches: Bool) {
        #expect(Glob(pattern).matches(path) == matches)
    }

    @Test("gitignore semantics: unanchored names, anchored paths, folders, negation, nesting")
    func gitignore() {
        var rules = IgnoreRules()
        rules.addIgnoreFile(contents: "# comment\n*.log\n!keep.log\n/top.txt\nbuild/\n", folder: "")
        rules.addIgnoreFile(contents: "*.png\n", folder: "sub")
        #expect(rules.ignoresFile("x.log"))
        #expect(rules.ignoresFile("deep/y.log"))
        #expect(!rules.ignoresFile("keep.log"))
        #expect(rules.ignoresFile("top.txt"))
        #expect(!rules.ignoresFile("deep/top.txt"))
        #expect(rules.ignoresFolder("build"))
        #expect(!rules.ignoresFile("build"))
        #expect(rules.ignoresFile("sub/a.png"))
        #expect(!rules.ignoresFile("a.png"))
        #expect(rules.ignoresFile(".env"))
        #expect(rules.ignoresFile("a/file.part"))
        #expect(rules.ignoresFolder(".git"))
    }
}

@Suite("remote filenames on pull")
struct RemotePathTests {
    @Test("safe names map to relative paths", arguments: [
        ("a.png", "a.png"), ("dir/sub/a.png", "dir/sub/a.png"), ("/abs/x", "abs/x"), ("a//./b", "a/b"),
        ("naïve café.txt", "naïve café.txt"),
    ])
    func safe(remote: String, local: String) throws {
        #expect(try RemotePath.localPath(for: remote).get() == local)
    }

    @Test("unsafe names are refused", arguments: ["../../etc/x", "a/../../b", "..", "x\u{0}y", "tab\there", "/", "f.part"])
    func unsafe(remote: String) {
        #expect(throws: RemotePathError.self) { try RemotePath.localPath(for: remote).get() }
    }
}
