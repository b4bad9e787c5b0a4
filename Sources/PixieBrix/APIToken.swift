/// A service-account token. Its description never shows the secret.
public struct APIToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let secret: String

    public init?(_ secret: String) {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else { return nil }
        self.secret = trimmed
    }

    var authorizationValue: String { "Token \(secret)" }

    public var description: String { "<token>" }
    public var debugDescription: String { "<token>" }
}

import Foundation
