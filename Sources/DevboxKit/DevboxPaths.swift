import Foundation

/// Where devbox keeps and looks for things on a developer machine.
public struct DevboxPaths: Sendable {
    /// Written by the admin's provisioning; `DEVBOX_SYSTEM_CONFIG` moves it (tests, odd setups).
    public var systemConfig: String
    /// The developer's overrides: `$XDG_CONFIG_HOME/devbox/config.toml` or `~/.config/devbox/config.toml`.
    public var userConfig: String
    /// The default clone location, `~/nuvola`.
    public var defaultWorkspace: String
    /// Downloaded dumps: `$XDG_CACHE_HOME/devbox` or `~/.cache/devbox`.
    public var cache: String
    /// An HTTPS token for the repository, handed over at onboarding (mode 0600).
    public var gitToken: String
    /// What devbox generates and keeps per machine (the local database password): mode 0700.
    public var state: String

    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        systemConfig = environment["DEVBOX_SYSTEM_CONFIG"] ?? "/etc/devbox/config.toml"
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.config"
        userConfig = "\(configHome)/devbox/config.toml"
        gitToken = "\(configHome)/devbox/git-token"
        let stateHome = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.local/state"
        state = "\(stateHome)/devbox"
        let cacheHome = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.cache"
        cache = "\(cacheHome)/devbox"
        defaultWorkspace = "\(home)/nuvola"
    }
}
