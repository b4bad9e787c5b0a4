import Foundation
import PixieBrix

/// Where the API is and which token to use, resolved from flags, the environment and the profile.
struct Settings {
    static let defaultURL = "https://app.pixiebrix.com"

    var url: URL
    var token: APIToken?

    static func resolve(_ options: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment,
                        warn: (String) -> Void = SecretFile.warnOnStandardError) throws -> Settings {
        let profile = try Profile.load(name: options.profile, environment: environment)
        if profile?.token != nil { SecretFile.checkPrivate(Profile.configPath(environment: environment), what: "config file", warn: warn) }
        let urlText = options.url ?? environment["PIXIEBRIX_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? profile?.url
            ?? defaultURL
        guard let url = URL(string: urlText), url.scheme != nil, url.host != nil else {
            throw CLIError("--url \(urlText) is not a URL like https://app.pixiebrix.com")
        }
        var token: APIToken?
        if let file = options.tokenFile ?? (environment["PIXIEBRIX_TOKEN"] == nil ? profile?.tokenFile : nil) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read the token file \(file)")
            }
            guard let parsed = APIToken(text) else { throw CLIError("the token file \(file) holds no token") }
            SecretFile.checkPrivate(file, what: "token file", warn: warn)
            token = parsed
        } else if let secret = environment["PIXIEBRIX_TOKEN"] ?? profile?.token {
            guard let parsed = APIToken(secret) else { throw CLIError("PIXIEBRIX_TOKEN is empty or malformed") }
            token = parsed
        }
        return Settings(url: url, token: token)
    }

    /// The token is required by every API command; a missing one is a configuration error, not a 401.
    func requireToken() throws -> APIToken {
        guard let token else {
            throw CLIError("no token: set PIXIEBRIX_TOKEN, pass --token-file FILE, or add a profile to "
                + "$XDG_CONFIG_HOME/pixiebrix-assets/config.toml")
        }
        return token
    }
}
