import Foundation
import TOMLKit

/// A named set of defaults from `$XDG_CONFIG_HOME/pixiebrix-assets/config.toml`:
///
/// ```toml
/// default_profile = "work"
///
/// [profiles.work]
/// url = "https://app.pixiebrix.com"
/// token_file = "~/.config/pixiebrix-assets/work.token"
/// ```
///
/// The file is TOML 1.0 (read by TOMLKit): quoted and dotted keys, escapes, comments, inline tables.
struct Profile: Equatable {
    var url: String?
    var token: String?
    var tokenFile: String?

    static func configPath(environment: [String: String]) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.config")
        return base + "/pixiebrix-assets/config.toml"
    }

    /// The named profile, the default one, or nil when there is no config file.
    static func load(name: String?, environment: [String: String]) throws -> Profile? {
        let path = configPath(environment: environment)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            if let name { throw CLIError("--profile \(name): there is no config file at \(path)") }
            return nil
        }
        return try profile(named: name, in: text, path: path)
    }

    /// The profile `name` (or the file's `default_profile`, or `default`) of a config file's text; nil when the
    /// file has no such profile and none was asked for by name.
    static func profile(named name: String?, in text: String, path: String) throws -> Profile? {
        let document = try parse(text, path: path)
        let wanted = try name ?? string("default_profile", in: document, table: nil, path: path) ?? "default"
        let tableName = "profiles.\(quotedIfNeeded(wanted))"
        guard let table = document["profiles"]?.table?[wanted]?.table else {
            if name != nil { throw CLIError("--profile \(wanted): no [\(tableName)] table in \(path)") }
            return nil
        }
        let expand: (String) -> String = { ($0 as NSString).expandingTildeInPath }
        return Profile(url: try string("url", in: table, table: tableName, path: path),
                       token: try string("token", in: table, table: tableName, path: path),
                       tokenFile: try string("token_file", in: table, table: tableName, path: path).map(expand))
    }

    /// The document, or an error that names the file, the line and the column.
    static func parse(_ text: String, path: String) throws -> TOMLTable {
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let position = error.source.begin
            throw CLIError("\(path):\(position.line):\(position.column): \(error.description)")
        }
    }

    /// A string member; a value of another type is an error that names the key.
    private static func string(_ key: String, in table: TOMLTable, table name: String?, path: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else {
            let fullKey = (name.map { $0 + "." } ?? "") + quotedIfNeeded(key)
            throw CLIError("\(path): \(fullKey) must be a string, not \(value.type)")
        }
        return text
    }

    /// A key as TOML writes it: bare when it is letters, digits, `-` and `_` only, quoted otherwise.
    private static func quotedIfNeeded(_ key: String) -> String {
        let bare = !key.isEmpty && key.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
        }
        return bare ? key : "\"" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
