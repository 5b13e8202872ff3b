import DumpImport
import Foundation
import Host
import Nuvola
import Terminal

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

/// A config file that cannot be used, or a value of the wrong kind: the kind, and a message
/// naming the file and line (or the variable) and the fix.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file cannot be read (permissions, a directory in its place).
        case unreadable
        /// The file is not UTF-8, or not TOML.
        case malformed
        /// A setting's value is of the wrong kind or outside its range.
        case value(key: String)
        /// Anything else in a file that devbox cannot use (a sanitize rule).
        case invalid
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }

    public init(_ kind: Kind = .invalid, message: String) {
        self.kind = kind
        self.message = message
    }
}

/// devbox's merged configuration: built-in defaults, then /etc/devbox/config.toml (written at
/// provisioning), then the developer's ~/.config/devbox/config.toml, then `DEVBOX_*` variables,
/// then command-line flags. Every value remembers where it came from.
public struct DevboxConfig: Sendable {
    public static let settings: [DevboxSetting] = [
        DevboxSetting(key: "repository.url", help: "the app's git repository (https://... or git@...)", kind: .repository),
        DevboxSetting(key: "repository.integration_branch", defaultValue: "new_features",
                      help: "where features are integrated; pull requests target it", kind: .branch),
        DevboxSetting(key: "repository.production_branch", defaultValue: "main", help: "what production runs; never worked on directly",
                      kind: .branch),
        DevboxSetting(key: "repository.username", defaultValue: "x-access-token", help: "user name sent with an HTTPS token"),
        DevboxSetting(key: "workspace.path", defaultValue: "~/nuvola", help: "where the repository is checked out", kind: .path),
        DevboxSetting(key: "dumps.location", help: "where production dumps are published (s3://bucket/prefix/)", kind: .url),
        DevboxSetting(key: "dumps.max_age_hours", defaultValue: "36", help: "warn when the newest dump is older", kind: .integer(1...Int.max)),
        DevboxSetting(key: "aws.region", help: "AWS region (else AWS_REGION, the profile or instance metadata)"),
        DevboxSetting(key: "github.repository", help: "owner/name on GitHub, for pull requests"),
        DevboxSetting(key: "compose.project", defaultValue: "nuvola", help: "compose project name (containers, volumes)",
                      kind: .composeProject),
        DevboxSetting(key: "compose.directory", help: "the compose.yaml and Dockerfiles (default: installed with devbox)", kind: .path),
        DevboxSetting(key: "compose.http_port", defaultValue: "8080", help: "loopback port of the app", kind: .integer(1...65535)),
        DevboxSetting(key: "compose.db_port", defaultValue: "3306", help: "loopback port of the database", kind: .integer(1...65535)),
        DevboxSetting(key: "compose.health_timeout", defaultValue: "300", help: "seconds `up` waits for healthy containers",
                      kind: .integer(1...Int.max)),
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
        try config.checkPortsDiffer()
        return config
    }

    /// The app and the database are published on loopback side by side: one port each.
    func checkPortsDiffer() throws(ConfigError) {
        guard httpPort == databasePort else { return }
        let origins = ["compose.http_port", "compose.db_port"].map { "\($0) from \(entries[$0]?.origin.description ?? "default")" }
        throw ConfigError(.value(key: "compose.db_port"), message: "\(origins.joined(separator: " and ")) are both \(httpPort); the app and the database each need "
            + "a port of their own. Change one of them.")
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
        let bytes = try Self.contents(of: path)
        let document: TOMLDocument
        do {
            document = try TOML.document(bytes: bytes)
        } catch {
            if case .encoding = error.kind {
                throw ConfigError(.malformed, message: "\(path) is not UTF-8 text: on line \(error.line), \(error.message). Save it as UTF-8, or "
                    + "move it away to use the defaults.")
            }
            throw ConfigError(.malformed, message: "\(path) is not valid TOML (\(error)). Fix the file, or move it away to use the defaults.")
        }
        sanitizeRules += try SanitizeRule.rules(from: document.values, file: path)
        for (section, content) in document.values.sorted(by: { $0.key < $1.key }) where !Self.extensionSections.contains(section) {
            guard let table = content.table else {
                warnings.append("\(path): '\(section)' is not a [section]; ignored")
                continue
            }
            for (name, value) in table.sorted(by: { $0.key < $1.key }) {
                let key = "\(section).\(name)"
                let line = document.line(of: [section, name])
                guard let setting = Self.settings.first(where: { $0.key == key }) else {
                    warnings.append("\(path): unknown setting \(key) ignored (`devbox config show` lists them)")
                    continue
                }
                switch value {
                case .string(let text): try set(setting, text, origin: .file(path), line: line)
                case .integer(let number): try set(setting, String(number), origin: .file(path), line: line)
                default:
                    throw ConfigError(.value(key: key), message: "\(Self.place(of: key, .file(path), line: line)) should be "
                        + "\(setting.isInteger ? "a number" : "a quoted string"), not \(Printable.escaping(value.text)).")
                }
            }
        }
    }

    /// The file's bytes; when it cannot be read, the reason (the errno's), with permissions advice
    /// only when permissions are the reason.
    static func contents(of path: String) throws(ConfigError) -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path) { return [UInt8](data) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ConfigError(.unreadable, message: "cannot read \(path): it is a directory, not a file. Move it away (devbox expects a TOML file there).")
        }
        let code = access(path, R_OK) == 0 ? EIO : errno
        let advice = code == EACCES ? "Check its permissions (`ls -l \(path)`): your user must be able to read it."
            : "Fix the file, or move it away to use the defaults."
        throw ConfigError(.unreadable, message: "cannot read \(path): \(String(cString: strerror(code))). \(advice)")
    }

    /// Sections read on their own terms (sync-db's sanitisation rules).
    static let extensionSections: Set<String> = ["sanitize"]

    mutating func set(_ setting: DevboxSetting, _ value: String, origin: SettingOrigin, line: Int? = nil) throws(ConfigError) {
        if let problem = setting.problem(with: value) {
            throw ConfigError(.value(key: setting.key), message: "\(Self.place(of: setting.key, origin, line: line)) \(problem).")
        }
        entries[setting.key] = Entry(value: value, origin: origin)
    }

    /// "FILE, line 3: compose.http_port" for a file, "compose.http_port from env DEVBOX_..." otherwise.
    static func place(of key: String, _ origin: SettingOrigin, line: Int?) -> String {
        if case .file(let path) = origin { return "\(path)\(line.map { ", line \($0)" } ?? ""): \(key)" }
        return "\(key) from \(origin)"
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
    /// One row of `devbox config show`: URLs without credentials.
    public struct Row: Sendable, Encodable {
        public var key: String
        public var value: String?
        public var origin: String
        public var environment: String
    }

    public var rows: [Row] {
        Self.settings.map { setting in
            let entry = entries[setting.key]
            return Row(key: setting.key, value: entry?.value.map(setting.shown), origin: entry?.origin.description ?? "default",
                       environment: setting.environmentName)
        }
    }
}

/// What `devbox config show` reports: every setting with its origin, and the files read.
public struct ConfigReport: Sendable, Encodable {
    public var settings: [DevboxConfig.Row]
    public var files: [String]

    public init(config: DevboxConfig, paths: DevboxPaths) {
        settings = config.rows
        files = [paths.systemConfig, paths.userConfig]
    }

    /// The table; values are escaped, so a control character in a file cannot reach the terminal.
    public func render() -> String {
        Table(headers: ["setting", "value", "from"],
              rows: settings.map { [$0.key, Printable.escaping($0.value ?? "(unset)"), Printable.escaping($0.origin)] }).render()
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
