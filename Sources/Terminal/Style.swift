/// Whether to colour output: never with `NO_COLOR` set (https://no-color.org), `TERM=dumb`, or
/// when the output is not a terminal; `CLICOLOR_FORCE=1` forces colour on for a pipe.
public struct ColorPolicy: Sendable, Equatable {
    public let enabled: Bool

    public init(environment: [String: String], isInteractive: Bool) {
        if let value = environment["NO_COLOR"], !value.isEmpty {
            enabled = false
        } else if environment["TERM"] == "dumb" {
            enabled = false
        } else if let force = environment["CLICOLOR_FORCE"], force != "0", !force.isEmpty {
            enabled = true
        } else {
            enabled = isInteractive
        }
    }

    public init(enabled: Bool) { self.enabled = enabled }
}

/// ANSI styles, applied only when the policy allows colour.
public enum Style: String, Sendable, CaseIterable {
    case bold = "1"
    case dim = "2"
    case red = "31"
    case green = "32"
    case yellow = "33"
    case blue = "34"
    case cyan = "36"

    public func apply(_ text: String, _ policy: ColorPolicy) -> String {
        policy.enabled ? "\u{1B}[\(rawValue)m\(text)\u{1B}[0m" : text
    }
}

/// Removes ANSI escape sequences, for measuring the visible width of styled text.
public func visibleText(_ text: String) -> String {
    var result = ""
    var inEscape = false
    for scalar in text.unicodeScalars {
        if inEscape {
            if (0x40...0x7E).contains(scalar.value) && scalar != "[" { inEscape = false }
        } else if scalar == "\u{1B}" {
            inEscape = true
        } else {
            result.unicodeScalars.append(scalar)
        }
    }
    return result
}
