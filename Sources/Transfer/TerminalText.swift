/// Makes text from a server (or any other stranger) safe to print to a terminal, a log or an error.
///
/// A name holding `ESC [ 2 J`, a BEL, a C1 control such as CSI (U+009B) or a bidi override such as
/// U+202E could clear the user's screen, retitle the window or make `evil.exe` read as `exe.live`.
/// Every such scalar becomes `\uXXXX`: readable on a terminal and, inside a JSON string, the JSON
/// escape of the same character, so one function serves text and `--json` output alike.
///
/// ```swift
/// TerminalText.escape("a\u{1B}[2Jb")  // "a\\u001b[2Jb"
/// ```
public enum TerminalText {
    /// `text` with every C0 control (tab and newline included), DEL, C1 control and bidi
    /// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069) written as `\uXXXX`.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isUnsafe(scalar) else {
                out.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16)
            out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
        }
        return String(out)
    }

    /// Whether printing `scalar` as it is could steer a terminal or reorder the text around it.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
