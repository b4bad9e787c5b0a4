import Crypto

/// Compares two secrets (tokens, signatures) in time that does not depend on where they first differ: their
/// SHA-256 digests are compared byte by byte, all of them.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let left = SHA256.hash(data: Array(a.utf8))
    let right = SHA256.hash(data: Array(b.utf8))
    var difference: UInt8 = 0
    for (x, y) in zip(left, right) { difference |= x ^ y }
    return difference == 0
}
