/// Which local paths a push leaves out: `.assetsignore` files (gitignore syntax), `--include` and
/// `--exclude` globs, and what is never pushed (dotfiles, partial downloads, the state file).
public struct IgnoreRules: Sendable {
    struct Rule: Sendable {
        var glob: Glob
        var negated: Bool
        var directoryOnly: Bool
    }

    /// The name of the per-folder ignore file.
    public static let fileName = ".assetsignore"

    private var includes: [Glob]
    private var excludes: [Glob]
    /// Rules of `.assetsignore` files, by the folder (relative, "" for the root) that holds them.
    private var rulesByFolder: [String: [Rule]] = [:]
    /// Relative paths never pushed (the state file and its companions when inside the folder).
    private var alwaysIgnored: Set<String>

    public init(include: [String] = [], exclude: [String] = [], alwaysIgnored: Set<String> = []) {
        includes = include.map(IgnoreRules.pathGlob)
        excludes = exclude.map(IgnoreRules.pathGlob)
        self.alwaysIgnored = alwaysIgnored
    }

    /// A glob without `/` matches a name at any depth; with one, the path from the root.
    private static func pathGlob(_ pattern: String) -> Glob {
        var pattern = pattern
        if pattern.hasPrefix("/") { return Glob(String(pattern.dropFirst())) }
        if pattern.hasSuffix("/") { pattern += "**" }
        return pattern.contains("/") ? Glob(pattern) : Glob("**/" + pattern)
    }

    /// Adds the rules of an `.assetsignore` found in `folder` (relative path, "" for the root).
    public mutating func addIgnoreFile(contents: String, folder: String) {
        var rules: [Rule] = []
        for rawLine in contents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var line = String(rawLine)
            while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var negated = false
            if line.hasPrefix("!") {
                negated = true
                line.removeFirst()
            } else if line.hasPrefix("\\!") || line.hasPrefix("\\#") {
                line.removeFirst()
            }
            var directoryOnly = false
            if line.hasSuffix("/") {
                directoryOnly = true
                line.removeLast()
            }
            guard !line.isEmpty else { continue }
            let anchored = line.contains("/")
            if line.hasPrefix("/") { line.removeFirst() }
            let prefix = folder.isEmpty ? "" : folder + "/"
            let glob = anchored ? Glob(prefix + line) : Glob(prefix + "**/" + line)
            rules.append(Rule(glob: glob, negated: negated, directoryOnly: directoryOnly))
        }
        rulesByFolder[folder, default: []] += rules
    }

    /// No globs, no `.assetsignore` rules and no always-ignored paths: only names decide (dotfiles,
    /// `.part`), so a walk can skip building each path to ask.
    var decidesByNameAlone: Bool {
        includes.isEmpty && excludes.isEmpty && rulesByFolder.isEmpty && alwaysIgnored.isEmpty
    }

    /// Whether a folder is skipped whole (its contents are never looked at).
    public func ignoresFolder(_ path: String) -> Bool {
        isHidden(path) || ignoredByFiles(path, isFolder: true)
    }

    /// Whether a file is left out of the push.
    public func ignoresFile(_ path: String) -> Bool {
        if isHidden(path) || path.hasSuffix(".part") || alwaysIgnored.contains(path) { return true }
        if ignoredByFiles(path, isFolder: false) { return true }
        if excludes.contains(where: { $0.matches(path) }) { return true }
        if !includes.isEmpty && !includes.contains(where: { $0.matches(path) }) { return true }
        return false
    }

    private func isHidden(_ path: String) -> Bool {
        path.split(separator: "/").last?.hasPrefix(".") ?? false
    }

    /// gitignore semantics: rules of outer folders first, deeper ones after; the last match wins.
    private func ignoredByFiles(_ path: String, isFolder: Bool) -> Bool {
        guard !rulesByFolder.isEmpty else { return false }
        var ignored = false
        var folders = [""]
        let segments = path.split(separator: "/").dropLast()
        var current = ""
        for segment in segments {
            current = current.isEmpty ? String(segment) : current + "/" + segment
            folders.append(current)
        }
        for folder in folders {
            for rule in rulesByFolder[folder] ?? [] where !rule.directoryOnly || isFolder {
                if rule.glob.matches(path) { ignored = !rule.negated }
            }
        }
        return ignored
    }
}
