import Foundation
import Testing

@testable import AssetsCLI

/// Profiles are read as full TOML; what cannot be read names the file and the line.
@Suite("config file profiles")
struct ProfileTests {
    static let path = "/home/u/.config/pixiebrix-assets/config.toml"

    @Test("quoted keys, escapes and literal strings")
    func quotedKeysAndEscapes() throws {
        let text = #"""
            default_profile = "team \"blue\""

            # a profile whose name needs quotes
            [profiles."team \"blue\""]
            url = "https://blue.example.com/\u0061pi"
            'token_file' = 'C:\tokens\blue'
            """#
        let profile = try Profile.profile(named: nil, in: text, path: Self.path)
        #expect(profile == Profile(url: "https://blue.example.com/api", token: nil, tokenFile: #"C:\tokens\blue"#))
    }

    @Test("dotted keys and inline tables name the same tables as headers do")
    func dottedKeys() throws {
        let text = """
            profiles.work.url = "https://work.example.com"
            profiles.work.token = "t0k3n"
            profiles.home = { url = "https://home.example.com", token_file = "~/home.token" }
            """
        #expect(try Profile.profile(named: "work", in: text, path: Self.path)
            == Profile(url: "https://work.example.com", token: "t0k3n", tokenFile: nil))
        let home = try #require(try Profile.profile(named: "home", in: text, path: Self.path))
        #expect(home.url == "https://home.example.com")
        #expect(home.tokenFile == NSHomeDirectory() + "/home.token")
        #expect(try Profile.profile(named: nil, in: text, path: Self.path) == nil)
    }

    @Test("a syntax error names the file and its line")
    func syntaxError() {
        let text = """
            [profiles.work]
            url = "https://work.example.com"

            token = "unterminated
            """
        let error = #expect(throws: CLIError.self) { try Profile.profile(named: "work", in: text, path: Self.path) }
        #expect(error?.description.hasPrefix(Self.path + ":4:") == true, "\(String(describing: error))")
    }

    @Test("a value that is not a string names its key; a missing named profile names its table")
    func wrongTypeAndMissingProfile() {
        let text = """
            [profiles.work]
            url = 443
            """
        let wrongType = #expect(throws: CLIError.self) { try Profile.profile(named: "work", in: text, path: Self.path) }
        #expect(wrongType?.description.hasPrefix("\(Self.path): profiles.work.url must be a string") == true)
        let missing = #expect(throws: CLIError.self) { try Profile.profile(named: "my team", in: text, path: Self.path) }
        #expect(missing?.description == #"--profile my team: no [profiles."my team"] table in \#(Self.path)"#)
    }
}
