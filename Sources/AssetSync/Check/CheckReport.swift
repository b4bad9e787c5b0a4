/// What `assets check` found: each path of the folder and of the database in one of rclone's five classes.
public struct CheckReport: Sendable, Equatable {
    /// rclone's `--combined` marks.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Same size and MD5 on both sides.
        case match = "="
        /// In the folder, not uploaded in the database.
        case onlyLocal = "-"
        /// Uploaded in the database, not in the folder.
        case onlyRemote = "+"
        /// On both sides with a different size or MD5.
        case differ = "*"
        /// Could not be compared (unreadable file, storage error, unsafe remote name).
        case error = "!"

        /// The name used in `--json` events and headings.
        public var name: String {
            switch self {
            case .match: "matching"
            case .onlyLocal: "only-local"
            case .onlyRemote: "only-remote"
            case .differ: "differing"
            case .error: "error"
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        /// The path relative to the folder (for a remote name that is no safe path, the name itself).
        public var path: String
        public var outcome: Outcome
        /// Why it differs or failed.
        public var detail: String?
    }

    /// In path order.
    public var entries: [Entry] = []
    /// Files compared without any request, from a manifest entry still current on both sides.
    public var fromManifest = 0
    /// Files whose remote bytes were downloaded and hashed (`--download`).
    public var downloaded = 0

    public func paths(_ outcome: Outcome) -> [String] {
        entries.filter { $0.outcome == outcome }.map(\.path)
    }

    public func count(_ outcome: Outcome) -> Int {
        entries.reduce(0) { $0 + ($1.outcome == outcome ? 1 : 0) }
    }

    /// Nothing differs, nothing is missing on either side, nothing failed.
    public var agrees: Bool { entries.allSatisfy { $0.outcome == .match } }
}
