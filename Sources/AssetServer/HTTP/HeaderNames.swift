import HTTPTypes

extension HTTPField.Name {
    static let pbLink = Self("Link")!
    static let pbTotalCount = Self("X-Total-Count")!
    static let pbRetryAfter = Self("Retry-After")!
    static let pbWWWAuthenticate = Self("WWW-Authenticate")!
    static let pbAllow = Self("Allow")!
}
