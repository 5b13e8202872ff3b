import DumpImport
import Foundation
import Nuvola

/// One setting devbox knows: its key in config.toml ("section.name"), default and meaning.
public struct DevboxSetting: Sendable {
    public var key: String
    public var defaultValue: String?
    public var help: String
    public var isInteger = false

    /// `DEVBOX_` + the key in capitals with dots as underscores: `DEVBOX_COMPOSE_HTTP_PORT`.
    public var environmentName: String { "DEVBOX_" + key.uppercased().replacingOccurrences(of: ".", with: "_") }
}

/// Where a setting's value came from, for `devbox config show`.
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

/// A config file that cannot be used, or a value of the wrong kind.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// devbox's merged configuration: built-in defaults, then /etc/devbox/config.toml (written at
/// provisioning), then the developer's ~/.config/devbox/config.toml, then `DEVBOX_*` variables,
/// then command-line flags. Every value remembers where it came from.
public struct DevboxConfig: Sendable {
    public static let settings: [DevboxSetting] = [
        DevboxSetting(key: "repository.url", help: "the app's git repository (https://... or git@...)"),
        DevboxSetting(key: "repository.integration_branch", defaultValue: "new_features",
                      help: "where features are integrated; pull requests target it"),
        DevboxSetting(key: "repository.production_branch", defaultValue: "main", help: "what production runs; never worked on directly"),
        DevboxSetting(key: "repository.username", defaultValue: "x-access-token", help: "user name sent with an HTTPS token"),
        DevboxSetting(key: "workspace.path", defaultValue: "~/nuvola", help: "where the repository is checked out"),
        DevboxSetting(key: "dumps.location", help: "where production dumps are published (s3://bucket/prefix/)"),
        DevboxSetting(key: "dumps.max_age_hours", defaultValue: "36", help: "warn when the newest dump is older", isInteger: true),
        DevboxSetting(key: "aws.region", help: "AWS region (else AWS_REGION, the profile or instance metadata)"),
        DevboxSetting(key: "github.repository", help: "owner/name on GitHub, for pull requests"),
        DevboxSetting(key: "compose.project", defaultValue: "nuvola", help: "compose project name (containers, volumes)"),
        DevboxSetting(key: "compose.directory", help: "the compose.yaml and Dockerfiles (default: installed with devbox)"),
        DevboxSetting(key: "compose.http_port", defaultValue: "8080", help: "loopback port of the app", isInteger: true),
        DevboxSetting(key: "compose.db_port", defaultValue: "3306", help: "loopback port of the database", isInteger: true),
        DevboxSetting(key: "compose.health_timeout", defaultValue: "300", help: "seconds `up` waits for healthy containers",
                      isInteger: true),
    ]

    public struct Entry: Sendable {
        public var value: String?
        public var origin: SettingOrigin
    }

    public private(set) var entries: [String: Entry]
    /// Problems that do not stop devbox (unknown keys), shown as warnings.
    public private(set) var warnings: [String] = []
    /// `[[sanitize]]` rules from every config file, system ones first.
    public private(set) var sanitizeRules: [SanitizeRule] = []
    public let home: String

    /// Merges every source. `flags` maps setting keys to values given on the command line,
    /// with the flag's spelling for `config show` (`["repository.url": ("--repo", url)]`).
    public static func load(paths: DevboxPaths, environment: [String: String],
                            flags: [String: (flag: String, value: String)] = [:]) throws(ConfigError) -> DevboxConfig {
        var config = defaults(home: environment["HOME"] ?? NSHomeDirectory())
        for path in [paths.systemConfig, paths.userConfig] where FileManager.default.fileExists(atPath: path) {
            try config.merge(file: path)
        }
        for setting in settings {
            if let value = environment[setting.environmentName], !value.isEmpty {
                try config.set(setting, value, origin: .environment(setting.environmentName))
            }
        }
        for (key, flag) in flags {
            guard let setting = settings.first(where: { $0.key == key }) else { continue }
            try config.set(setting, flag.value, origin: .flag(flag.flag))
        }
        return config
    }

    /// The built-in defaults alone (what `doctor` falls back on when a file is broken).
    public static func defaults(home: String) -> DevboxConfig {
        var config = DevboxConfig(entries: [:], home: home)
        for setting in settings {
            config.entries[setting.key] = Entry(value: setting.defaultValue, origin: .builtIn)
        }
        return config
    }

    mutating func merge(file path: String) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(message: "cannot read \(path): \(error.localizedDescription). Check its permissions.")
        }
        let document: [String: TOMLValue]
        do {
            document = try TOML.parse(text)
        } catch {
            throw ConfigError(message: "\(path) is not valid TOML (\(error)). Fix the file, or move it away to use the defaults.")
        }
        sanitizeRules += try SanitizeRule.rules(from: document, file: path)
        for (section, content) in document.sorted(by: { $0.key < $1.key }) where !Self.extensionSections.contains(section) {
            guard let table = content.table else {
                warnings.append("\(path): '\(section)' is not a [section]; ignored")
                continue
            }
            for (name, value) in table.sorted(by: { $0.key < $1.key }) {
                let key = "\(section).\(name)"
                guard let setting = Self.settings.first(where: { $0.key == key }) else {
                    warnings.append("\(path): unknown setting \(key) ignored (`devbox config show` lists them)")
                    continue
                }
                switch value {
                case .string(let text): try set(setting, text, origin: .file(path))
                case .integer(let number): try set(setting, String(number), origin: .file(path))
                default:
                    throw ConfigError(message: "\(path): \(key) should be \(setting.isInteger ? "a number" : "a quoted string"), not \(value.text).")
                }
            }
        }
    }

    /// Sections read on their own terms (sync-db's sanitisation rules).
    static let extensionSections: Set<String> = ["sanitize"]

    mutating func set(_ setting: DevboxSetting, _ value: String, origin: SettingOrigin) throws(ConfigError) {
        if setting.isInteger, Int(value) == nil {
            throw ConfigError(message: "\(setting.key) from \(origin) must be a whole number, not '\(value)'.")
        }
        entries[setting.key] = Entry(value: value, origin: origin)
    }

    public func value(_ key: String) -> String? { entries[key]?.value }

    func integer(_ key: String) -> Int { value(key).flatMap(Int.init) ?? 0 }

    /// `~` and `~/...` expanded against HOME.
    func path(_ key: String) -> String? {
        guard let raw = value(key) else { return nil }
        if raw == "~" { return home }
        if raw.hasPrefix("~/") { return home + raw.dropFirst(1) }
        return raw
    }

    public var repositoryURL: String? { value("repository.url") }
    public var integrationBranch: String { value("repository.integration_branch") ?? "new_features" }
    public var productionBranch: String { value("repository.production_branch") ?? "main" }
    public var gitUsername: String { value("repository.username") ?? "x-access-token" }
    public var workspacePath: String { path("workspace.path") ?? "\(home)/nuvola" }
    public var dumpLocation: String? { value("dumps.location") }
    public var dumpMaxAgeHours: Int { integer("dumps.max_age_hours") }
    public var region: String? { value("aws.region") }
    public var githubRepository: String? { value("github.repository") }
    public var composeProject: String { value("compose.project") ?? "nuvola" }
    public var composeDirectory: String? { path("compose.directory") }
    public var httpPort: Int { integer("compose.http_port") }
    public var databasePort: Int { integer("compose.db_port") }
    public var healthTimeout: Int { integer("compose.health_timeout") }
    /// The loopback ports the compose project publishes, with the setting that moves each.
    public var publishedPorts: [(port: Int, setting: String)] {
        [(httpPort, "compose.http_port"), (databasePort, "compose.db_port")]
    }
}

extension DevboxConfig {
    /// One row of `devbox config show`.
    public struct Row: Sendable, Encodable {
        public var key: String
        public var value: String?
        public var origin: String
        public var environment: String
    }

    public var rows: [Row] {
        Self.settings.map { setting in
            let entry = entries[setting.key]
            return Row(key: setting.key, value: entry?.value, origin: entry?.origin.description ?? "default",
                       environment: setting.environmentName)
        }
    }
}

extension DevboxConfig {
    /// Writes `values` ("section.name" → value) into the TOML file at `path`, keeping the rest of
    /// the file (comments included): an existing `name = ...` line in its section is replaced,
    /// otherwise the line is added to the section, or a new section at the end.
    public static func record(_ values: [(key: String, value: String)], in path: String) throws {
        var lines = (try? String(contentsOfFile: path, encoding: .utf8))?.components(separatedBy: "\n") ?? []
        if lines.last == "" { lines.removeLast() }
        for (key, value) in values {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            let (section, name) = (parts[0], parts[1])
            let quoted = "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            let newLine = "\(name) = \(quoted)"
            var currentSection = ""
            var sectionEnd: Int?
            var replaced = false
            for (index, line) in lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("[") {
                    currentSection = trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                    continue
                }
                guard currentSection == section, !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
                sectionEnd = index + 1
                let lineKey = trimmed.split(separator: "=", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces)
                if lineKey == name {
                    lines[index] = newLine
                    replaced = true
                }
            }
            if replaced { continue }
            if let header = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "[\(section)]" }) {
                lines.insert(newLine, at: max(sectionEnd ?? header + 1, header + 1))
            } else {
                if !lines.isEmpty { lines.append("") }
                lines += ["[\(section)]", newLine]
            }
        }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
