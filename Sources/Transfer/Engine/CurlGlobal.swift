import CCurl

/// `curl_global_init` must run once per process before any other libcurl call.
enum CurlGlobal {
    /// A `static let` initializer runs exactly once, thread-safely (it is lazily guarded by `swift_once`).
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    static func ensureInitialized() {
        _ = initialized
    }
}
