import DumpImport
import Foundation
import Host
import Nuvola
import Terminal

/// devbox's merged configuration: built-in defaults, then /etc/devbox/config.toml (written at
/// provisioning), then the developer's ~/.config/devbox/config.toml, then `DEVBOX_*` variables,
/// then command-line flags. Every value remembers where it came from.
public struct DevboxConfig: Sendable {
    public static let schema = SettingsSchema(tool: "devbox", environmentPrefix: "DEVBOX", settings: [
        .devbox("repository.url", help: "the app's git repository (https://... or git@...)", .repository),
        .devbox("repository.integration_branch", defaultValue: "new_features",
                help: "where features are integrated; pull requests target it", .branch),
        .devbox("repository.production_branch", defaultValue: "main", help: "what production runs; never worked on directly", .branch),
        Setting(key: "repository.username", defaultValue: "x-access-token", help: "user name sent with an HTTPS token"),
        .devbox("workspace.path", defaultValue: "~/nuvola", help: "where the repository is checked out", .path),
        .devbox("dumps.location", help: "where production dumps are published (s3://bucket/prefix/)", .url),
        Setting(key: "dumps.max_age_hours", defaultValue: "36", help: "warn when the newest dump is older", shape: .integer(1...Int.max)),
        Setting(key: "aws.region", help: "AWS region (else AWS_REGION, the profile or instance metadata)"),
        Setting(key: "github.repository", help: "owner/name on GitHub, for pull requests"),
        .devbox("compose.project", defaultValue: "nuvola", help: "compose project name (containers, volumes)", .composeProject),
        .devbox("compose.directory", help: "the compose.yaml and Dockerfiles (default: installed with devbox)", .path),
        Setting(key: "compose.http_port", defaultValue: "8080", help: "loopback port of the app", shape: .integer(1...65535)),
        Setting(key: "compose.db_port", defaultValue: "3306", help: "loopback port of the database", shape: .integer(1...65535)),
        Setting(key: "compose.health_timeout", defaultValue: "300", help: "seconds `up` waits for healthy containers",
                shape: .integer(1...Int.max)),
    ], extensionSections: ["sanitize"])

    public static var settings: [Setting] { schema.settings }

    public typealias Entry = LayeredSettings.Entry

    /// The merged values, each with its origin.
    public private(set) var layers: LayeredSettings
    public var entries: [String: Entry] { layers.entries }
    /// Problems that do not stop devbox (unknown keys), shown as warnings.
    public var warnings: [String] { layers.warnings }
    /// `[[sanitize]]` rules from every config file, system ones first.
    public private(set) var sanitizeRules: [SanitizeRule] = []
    public let home: String

    /// Merges every source. `flags` maps setting keys to values given on the command line,
    /// with the flag's spelling for `config show` (`["repository.url": ("--repo", url)]`).
    public static func load(paths: DevboxPaths, environment: [String: String],
                            flags: [String: (flag: String, value: String)] = [:]) throws(ConfigError) -> DevboxConfig {
        var config = defaults(home: environment["HOME"] ?? NSHomeDirectory())
        var rules: [SanitizeRule] = []
        try config.layers.load(files: [paths.systemConfig, paths.userConfig], environment: environment, flags: flags) {
            (document, path) throws(ConfigError) in rules += try SanitizeRule.rules(from: document.values, file: path)
        }
        config.sanitizeRules = rules
        try config.checkPortsDiffer()
        return config
    }

    /// The app and the database are published on loopback side by side: one port each.
    func checkPortsDiffer() throws(ConfigError) {
        guard httpPort == databasePort else { return }
        let origins = ["compose.http_port", "compose.db_port"].map { "\($0) from \(layers.origin(of: $0))" }
        throw ConfigError(.value(key: "compose.db_port"), message: "\(origins.joined(separator: " and ")) are both \(httpPort); the app and the database each need "
            + "a port of their own. Change one of them.")
    }

    /// The built-in defaults alone (what `doctor` falls back on when a file is broken).
    public static func defaults(home: String) -> DevboxConfig {
        DevboxConfig(layers: LayeredSettings(schema: schema), home: home)
    }

    public func value(_ key: String) -> String? { layers.value(key) }

    func integer(_ key: String) -> Int { layers.integer(key) }

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
    public typealias Row = SettingRow

    public var rows: [Row] { layers.rows }
}

extension SettingsReport {
    /// What `devbox config show` reports: every setting with its origin, and the files read.
    public init(config: DevboxConfig, paths: DevboxPaths) {
        self.init(settings: config.rows, files: [paths.systemConfig, paths.userConfig])
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
        let text = lines.joined(separator: "\n") + "\n"
        // A file only its owner could read stays that way (a rewrite must not make it 0644).
        if let mode = SecretFile.mode(of: path), mode & 0o077 == 0 {
            try SecretFile.write(text, to: path)
        } else {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
