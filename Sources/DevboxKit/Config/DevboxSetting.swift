import Git
import HTTP
import Terminal

/// One setting devbox knows: its key in config.toml ("section.name"), default, meaning, and what
/// a value must look like.
public struct DevboxSetting: Sendable {
    public enum Kind: Sendable, Equatable {
        case text
        /// A whole number in the range.
        case integer(ClosedRange<Int>)
        /// An absolute path, or one starting with `~/`.
        case path
        /// A repository URL or absolute path; shown without credentials.
        case repository
        /// A URL (s3://...); shown without credentials.
        case url
        /// A branch name, by git's rules.
        case branch
        /// A compose project name: lowercase letters, digits, `-` and `_`.
        case composeProject
    }

    public var key: String
    public var defaultValue: String?
    public var help: String
    public var kind: Kind = .text

    public var isInteger: Bool { if case .integer = kind { true } else { false } }

    /// `DEVBOX_` + the key in capitals with dots as underscores: `DEVBOX_COMPOSE_HTTP_PORT`.
    public var environmentName: String { "DEVBOX_" + key.uppercased().replacingOccurrences(of: ".", with: "_") }

    /// What is wrong with `value` for this setting, as the end of a sentence after the key; nil when fine.
    func problem(with value: String) -> String? {
        let shown = "'\(Printable.escaping(value))'"
        switch kind {
        case .text, .url:
            return nil
        case .integer(let range):
            guard let number = Int(value) else { return "must be a whole number, not \(shown)" }
            guard !range.contains(number) else { return nil }
            if range == 1...65535 { return "must be a port number between 1 and 65535, not \(number)" }
            return range.upperBound == .max ? "must be at least \(range.lowerBound), not \(number)"
                : "must be between \(range.lowerBound) and \(range.upperBound), not \(number)"
        case .path:
            guard !value.hasPrefix("/"), value != "~", !value.hasPrefix("~/") else { return nil }
            return "must be an absolute path or start with ~/, not \(shown) (a relative path means another place from every directory)"
        case .repository:
            guard case .local(let path) = RemoteLocation(value), !path.hasPrefix("/"), !value.hasPrefix("file://") else { return nil }
            return "is the relative path \(shown); write the repository's absolute path (a relative path means another "
                + "repository from every directory)"
        case .branch:
            return BranchName.problem(value).map { "is not a valid branch name (\(shown)): \($0)" }
        case .composeProject:
            let allowed = value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
            guard !allowed || value.isEmpty || value.hasPrefix("-") || value.hasPrefix("_") else { return nil }
            return "must be lowercase letters, digits, '-' and '_', beginning with a letter or digit (compose's rule for "
                + "project names), not \(shown)"
        }
    }

    /// The value as `devbox config show` may print it: URLs without credentials.
    func shown(_ value: String) -> String {
        kind == .repository || kind == .url ? RedactedURL.redact(value) : value
    }
}
