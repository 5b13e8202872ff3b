/// Where a setting's value came from, for `doctor` and error messages.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    case flag
    case environment(String)
    case profile(String)
    case instanceMetadata
    case defaultValue

    public var description: String {
        switch self {
        case .flag: "command-line flag"
        case .environment(let name): "environment variable \(name)"
        case .profile(let name): "profile \(name)"
        case .instanceMetadata: "EC2 instance metadata"
        case .defaultValue: "default"
        }
    }
}

/// An AWS region name with where it came from.
public struct Region: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var source: SettingSource

    public init(_ name: String, source: SettingSource = .defaultValue) {
        self.name = name
        self.source = source
    }

    public var description: String { name }

    /// The region in the SDKs' order: flag, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's
    /// `region`. Nil when none is set (the caller may then ask instance metadata).
    public static func resolve(flag: String?, environment: [String: String], shared: SharedConfig) -> Region? {
        if let flag, !flag.isEmpty { return Region(flag, source: .flag) }
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[name], !value.isEmpty { return Region(value, source: .environment(name)) }
        }
        let profile = SharedConfig.profileName(environment: environment)
        if let value = shared.profile(profile)?["region"], !value.isEmpty {
            return Region(value, source: .profile(profile))
        }
        return nil
    }
}
