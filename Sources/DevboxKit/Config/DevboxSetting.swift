import Git
import HTTP
import Nuvola
import Terminal

// The engine's types under the names devbox's callers and tests know.
public typealias ConfigError = Nuvola.ConfigError
public typealias SettingOrigin = Nuvola.SettingOrigin
public typealias ConfigReport = SettingsReport

/// What a devbox value must look like beyond text or a number: the rules that need git's and
/// URLs' knowledge, which the shared engine (Nuvola) does not link.
enum DevboxValue: Sendable, Equatable {
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

    /// What is wrong with `value`, as the end of a sentence after the key; nil when fine.
    func problem(with value: String) -> String? {
        let shown = "'\(Printable.escaping(value))'"
        switch self {
        case .url:
            return nil
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
}

extension Setting {
    /// A devbox setting whose value follows one of `DevboxValue`'s rules.
    static func devbox(_ key: String, defaultValue: String? = nil, help: String, _ kind: DevboxValue) -> Setting {
        Setting(key: key, defaultValue: defaultValue, help: help, rule: { kind.problem(with: $0) },
                shown: { kind == .repository || kind == .url ? RedactedURL.redact($0) : $0 })
    }
}
