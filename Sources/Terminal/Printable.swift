/// Text taken from input (a dump's statement, a server's message, a file name) made safe to
/// show on a terminal: control characters cannot clear the screen, move the cursor or change
/// colours, whatever NO_COLOR says.
public enum Printable {
    /// `text` with every control character (C0, DEL, C1) written as `\u{..}`; newlines and tabs
    /// become spaces when `singleLine`, else are kept (a carriage return, which could overwrite
    /// what the line said, never is).
    public static func escaping(_ text: String, singleLine: Bool = true) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x09:
                if singleLine { result.unicodeScalars.append(" ") } else { result.unicodeScalars.append(scalar) }
            case 0x0D where singleLine:
                result.unicodeScalars.append(" ")
            case 0x00..<0x20, 0x7F, 0x80..<0xA0:
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
