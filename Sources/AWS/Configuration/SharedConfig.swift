import Foundation

/// The user's AWS shared configuration: `~/.aws/config` and `~/.aws/credentials` (or the files
/// named by `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`), read the way the SDKs read them.
public struct SharedConfig: Sendable {
    public var config: ConfigFile
    public var credentials: ConfigFile
    public var configPath: String
    public var credentialsPath: String

    public init(config: ConfigFile, credentials: ConfigFile, configPath: String = "", credentialsPath: String = "") {
        self.config = config
        self.credentials = credentials
        self.configPath = configPath
        self.credentialsPath = credentialsPath
    }

    /// Loads both files; a missing file is an empty one.
    public static func load(environment: [String: String]) -> SharedConfig {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
        let credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
        func read(_ path: String) -> ConfigFile {
            ConfigFile(parsing: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
        }
        return SharedConfig(config: read(configPath), credentials: read(credentialsPath),
                            configPath: configPath, credentialsPath: credentialsPath)
    }

    static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }

    /// The profile chosen by `AWS_PROFILE` (or `AWS_DEFAULT_PROFILE`), else "default".
    public static func profileName(environment: [String: String]) -> String {
        environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "default"
    }

    /// The settings of profile `name`: the config file's `[profile name]` (`[default]` for the
    /// default profile) overlaid by the credentials file's `[name]`, which wins for keys in both.
    public func profile(_ name: String) -> [String: String]? {
        let fromConfig = name == "default"
            ? (config["default"] ?? config["profile default"])
            : config["profile \(name)"]
        let fromCredentials = credentials[name]
        guard fromConfig != nil || fromCredentials != nil else { return nil }
        return (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, credential in credential }
    }

    /// Every profile named in either file.
    public var profileNames: [String] {
        var names = Set(credentials.sections.keys)
        for section in config.sections.keys {
            if section == "default" { names.insert("default") }
            if section.hasPrefix("profile ") { names.insert(String(section.dropFirst("profile ".count))) }
        }
        return names.sorted()
    }
}
