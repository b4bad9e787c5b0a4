import Foundation

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
/// Only this subset of TOML is read (tables, `key = "string"`, comments); the one TOML package
/// on hand (TOMLKit) depends on a package that is not available to this build.
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
        let tables = try parse(text, path: path)
        let wanted = name ?? tables[""]?["default_profile"] ?? "default"
        guard let table = tables["profiles.\(wanted)"] else {
            if name != nil { throw CLIError("--profile \(wanted): no [profiles.\(wanted)] table in \(path)") }
            return nil
        }
        let expand: (String) -> String = { ($0 as NSString).expandingTildeInPath }
        return Profile(url: table["url"], token: table["token"], tokenFile: table["token_file"].map(expand))
    }

    /// Tables by name ("" for the top level) of `key = "string"` pairs.
    static func parse(_ text: String, path: String) throws -> [String: [String: String]] {
        var tables: [String: [String: String]] = [:]
        var current = ""
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), !line.hasPrefix("[[") else {
                    throw CLIError("\(path):\(number + 1): expected a table header like [profiles.work]")
                }
                current = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                tables[current, default: [:]] = tables[current] ?? [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw CLIError("\(path):\(number + 1): expected key = \"value\"")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard value.count >= 2, let quote = value.first, quote == "\"" || quote == "'",
                  let close = value.dropFirst().firstIndex(of: quote)
            else {
                throw CLIError("\(path):\(number + 1): the value of \(key) must be a quoted string")
            }
            value = String(value[value.index(after: value.startIndex)..<close])
            tables[current, default: [:]][key] = value
        }
        return tables
    }
}
