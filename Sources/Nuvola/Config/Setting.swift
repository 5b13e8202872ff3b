import Foundation
import Terminal

/// Where a setting's value came from, for `config show`.
public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
    case builtIn
    case file(String)
    case environment(String)
    case flag(String)

    public var description: String {
        switch self {
        case .builtIn: "default"
        case .file(let path): path
        case .environment(let name): "env \(name)"
        case .flag(let flag): "flag \(flag)"
        }
    }
}

/// One setting a tool knows: its key in the TOML file ("section.name"), default, meaning, and
/// what a value must look like.
public struct Setting: Sendable {
    /// What a value is in the file, whatever rule it then follows.
    public enum Shape: Sendable, Equatable {
        /// A quoted string.
        case text
        /// A whole number in the range.
        case integer(ClosedRange<Int>)
        /// An array of quoted strings in the file; commas between items in a variable or flag.
        case list
    }

    public var key: String
    public var defaultValue: String?
    public var help: String
    public var shape: Shape
    /// What is wrong with a value beyond its shape, as the end of a sentence after the key; nil when fine.
    public var rule: @Sendable (String) -> String?
    /// The value as `config show` may print it (URLs without credentials).
    public var shown: @Sendable (String) -> String
    /// Set by the schema: `<PREFIX>_SECTION_NAME`.
    public internal(set) var environmentName = ""

    public init(key: String, defaultValue: String? = nil, help: String, shape: Shape = .text,
                rule: @escaping @Sendable (String) -> String? = { _ in nil },
                shown: @escaping @Sendable (String) -> String = { $0 }) {
        self.key = key
        self.defaultValue = defaultValue
        self.help = help
        self.shape = shape
        self.rule = rule
        self.shown = shown
    }

    public var isInteger: Bool { if case .integer = shape { true } else { false } }

    /// The items of a `.list` value (trimmed, empty ones dropped).
    public static func items(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// What is wrong with `value`: its shape first, then the setting's rule.
    public func problem(with value: String) -> String? {
        if case .integer(let range) = shape {
            guard let number = Int(value) else { return "must be a whole number, not '\(Printable.escaping(value))'" }
            guard !range.contains(number) else { return rule(value) }
            if range == 1...65535 { return "must be a port number between 1 and 65535, not \(number)" }
            return range.upperBound == .max ? "must be at least \(range.lowerBound), not \(number)"
                : "must be between \(range.lowerBound) and \(range.upperBound), not \(number)"
        }
        return rule(value)
    }
}

/// A tool's settings and how its sources are named: the variables' prefix, the sections read
/// on their own terms, the command that lists them.
public struct SettingsSchema: Sendable {
    /// The tool's name, as messages say it (`devbox`, `adminctl`).
    public var tool: String
    public private(set) var settings: [Setting]
    /// Sections the tool reads itself (devbox's `[[sanitize]]`): not settings, not unknown.
    public var extensionSections: Set<String>

    /// `environmentPrefix` is the variables' first word: `DEVBOX` gives `DEVBOX_COMPOSE_HTTP_PORT`.
    public init(tool: String, environmentPrefix: String, settings: [Setting], extensionSections: Set<String> = []) {
        self.tool = tool
        self.extensionSections = extensionSections
        self.settings = settings.map { setting in
            var setting = setting
            setting.environmentName = environmentPrefix + "_" + setting.key.uppercased().replacingOccurrences(of: ".", with: "_")
            return setting
        }
    }

    public func setting(_ key: String) -> Setting? { settings.first { $0.key == key } }
}
