import Terminal

/// One row of `config show`: URLs without credentials.
public struct SettingRow: Sendable, Encodable {
    public var key: String
    public var value: String?
    public var origin: String
    public var environment: String
}

/// What `config show` reports: every setting with its origin, and the files read.
public struct SettingsReport: Sendable, Encodable {
    public var settings: [SettingRow]
    public var files: [String]

    public init(settings: [SettingRow], files: [String]) {
        self.settings = settings
        self.files = files
    }

    /// The table; values are escaped, so a control character in a file cannot reach the terminal.
    public func render() -> String {
        Table(headers: ["setting", "value", "from"],
              rows: settings.map { [$0.key, Printable.escaping($0.value ?? "(unset)"), Printable.escaping($0.origin)] }).render()
    }
}
