import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A token that others may read gets a warning on stderr, as ssh gives for a private key.
@Suite("token and config file modes")
struct SecretFileTests {
    @Test("a token file readable by group or others: warned on stderr (without the token); 0600: no warning")
    func tokenFileWarning() async throws {
        try await withFixture { fixture in
            let tokenFile = fixture.scratch.path("token")
            try Data(fixture.server.token.utf8).write(to: URL(fileURLWithPath: tokenFile))
            let arguments = ["databases", "--url", fixture.server.url.absoluteString, "--token-file", tokenFile]

            chmod(tokenFile, 0o644)
            let loose = try await CLI.run(arguments)
            #expect(loose.status == 0)
            #expect(loose.stderr.contains("warning: the token file \(tokenFile)"))
            #expect(loose.stderr.contains("chmod 600"))
            #expect(!loose.stderr.contains(fixture.server.token))
            #expect(!loose.stdout.contains(fixture.server.token))

            chmod(tokenFile, 0o640)
            let groupReadable = try await CLI.run(arguments)
            #expect(groupReadable.stderr.contains("warning: the token file \(tokenFile)"))

            chmod(tokenFile, 0o600)
            let tight = try await CLI.run(arguments)
            #expect(tight.status == 0)
            #expect(!tight.stderr.contains("warning"))
        }
    }

    @Test("a config file holding a token and readable by others: warned; 0600: no warning")
    func configFileWarning() async throws {
        try await withFixture { fixture in
            let configHome = try fixture.scratch.folder("config")
            let config = configHome + "/pixiebrix-assets/config.toml"
            try write(Data("""
                [profiles.default]
                url = "\(fixture.server.url.absoluteString)"
                token = "\(fixture.server.token)"
                """.utf8), to: config)
            let environment = ["XDG_CONFIG_HOME": configHome]

            chmod(config, 0o644)
            let loose = try await CLI.run(["databases"], environment: environment)
            #expect(loose.status == 0)
            #expect(loose.stderr.contains("warning: the config file \(config)"))
            #expect(!loose.stderr.contains(fixture.server.token))

            chmod(config, 0o600)
            let tight = try await CLI.run(["databases"], environment: environment)
            #expect(tight.status == 0)
            #expect(!tight.stderr.contains("warning"))
        }
    }
}
