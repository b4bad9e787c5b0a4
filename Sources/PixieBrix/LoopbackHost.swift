import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Tells whether a URL's host names this machine, by parsing it as an address.
enum LoopbackHost {
    /// `host` as in a URL (IPv6 in brackets or not). Only the canonical forms count: four decimal
    /// octets for IPv4 (`inet_pton` rejects `127.1`, octal and hex forms), any spelling of `::1`,
    /// and `localhost`, which libcurl resolves to loopback itself.
    static func isLoopback(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            // s_addr is in network order: its first byte in memory is the first octet.
            return withUnsafeBytes(of: &v4) { $0[0] } == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }
}
