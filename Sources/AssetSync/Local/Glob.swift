/// A shell glob over `/`-separated paths: `*` and `?` stay within one path segment, `**`
/// spans segments, `[a-z]`/`[!a-z]` are classes and `\` escapes.
struct Glob: Sendable, Equatable {
    private let pattern: [Unicode.Scalar]

    init(_ pattern: String) {
        self.pattern = Array(pattern.unicodeScalars)
    }

    func matches(_ path: String) -> Bool {
        Glob.match(pattern[...], Array(path.unicodeScalars)[...])
    }

    private static func match(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        var p = p
        var s = s
        while let c = p.first {
            switch c {
            case "*":
                if p.dropFirst().first == "*" {
                    var rest = p.dropFirst(2)
                    // `**/` also matches no folder at all.
                    if rest.first == "/" {
                        rest = rest.dropFirst()
                        if match(rest, s) { return true }
                        var t = s
                        while let slash = t.firstIndex(of: "/") {
                            t = t[(slash + 1)...]
                            if match(rest, t) { return true }
                        }
                        return false
                    }
                    var t = s
                    while true {
                        if match(rest, t) { return true }
                        if t.isEmpty { return false }
                        t = t.dropFirst()
                    }
                }
                let rest = p.dropFirst()
                var t = s
                while true {
                    if match(rest, t) { return true }
                    guard let next = t.first, next != "/" else { return false }
                    t = t.dropFirst()
                }
            case "?":
                guard let next = s.first, next != "/" else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            case "[":
                guard let next = s.first, next != "/" else { return false }
                if let (matched, rest) = matchClass(p.dropFirst(), next) {
                    guard matched else { return false }
                    p = rest
                } else {
                    // An unterminated class is a literal `[`.
                    guard next == "[" else { return false }
                    p = p.dropFirst()
                }
                s = s.dropFirst()
            case "\\" where p.count > 1:
                guard s.first == p[p.index(after: p.startIndex)] else { return false }
                p = p.dropFirst(2)
                s = s.dropFirst()
            default:
                guard s.first == c else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            }
        }
        return s.isEmpty
    }

    /// Matches one character against a class body (after `[`); returns nil if the class is unterminated.
    private static func matchClass(_ body: ArraySlice<Unicode.Scalar>, _ c: Unicode.Scalar)
        -> (Bool, ArraySlice<Unicode.Scalar>)? {
        var p = body
        var negated = false
        if p.first == "!" || p.first == "^" {
            negated = true
            p = p.dropFirst()
        }
        var matched = false
        var first = true
        while let x = p.first {
            if x == "]" && !first {
                return (matched != negated, p.dropFirst())
            }
            first = false
            let rest = p.dropFirst()
            if rest.first == "-", rest.count > 1, rest[rest.index(after: rest.startIndex)] != "]" {
                let upper = rest[rest.index(after: rest.startIndex)]
                if x.value <= c.value && c.value <= upper.value { matched = true }
                p = rest.dropFirst(2)
            } else {
                if x == c { matched = true }
                p = rest
            }
        }
        return nil
    }
}
