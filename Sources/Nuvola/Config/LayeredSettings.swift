import Foundation
import Terminal

/// Values merged from layered sources — built-in defaults, then TOML files in order, then
/// `<PREFIX>_SECTION_NAME` variables, then flags — each remembering where it came from. Both
/// tools' configurations are built on it, so they read, validate and explain files alike.
public struct LayeredSettings: Sendable {
    public struct Entry: Sendable {
        public var value: String?
        public var origin: SettingOrigin
    }

    public let schema: SettingsSchema
    public private(set) var entries: [String: Entry] = [:]
    /// Problems that do not stop the tool (unknown keys), shown as warnings.
    public private(set) var warnings: [String] = []

    /// The built-in defaults alone.
    public init(schema: SettingsSchema) {
        self.schema = schema
        for setting in schema.settings {
            entries[setting.key] = Entry(value: setting.defaultValue, origin: .builtIn)
        }
    }

    /// Every layer in order: `files` that exist, then `environment`, then `flags` (setting keys
    /// to the flag's spelling and value, `["repository.url": ("--repo", url)]`). `extensions`
    /// reads a file's extension sections before its settings.
    public mutating func load(files: [String], environment: [String: String], flags: [String: (flag: String, value: String)],
                              extensions: (TOMLDocument, String) throws(ConfigError) -> Void = { _, _ in }) throws(ConfigError) {
        for path in files where FileManager.default.fileExists(atPath: path) {
            let document = try Self.document(at: path, tool: schema.tool)
            try extensions(document, path)
            try merge(document, from: path)
        }
        try apply(environment: environment)
        try apply(flags: flags)
    }

    /// The parsed file, or why it cannot be used: not readable, not UTF-8 (with the line), not TOML.
    public static func document(at path: String, tool: String) throws(ConfigError) -> TOMLDocument {
        let bytes = try contents(of: path, tool: tool)
        do {
            return try TOML.document(bytes: bytes)
        } catch {
            if case .encoding = error.kind {
                throw ConfigError(.malformed, message: "\(path) is not UTF-8 text: on line \(error.line), \(error.message). Save it as UTF-8, or "
                    + "move it away to use the defaults.")
            }
            throw ConfigError(.malformed, message: "\(path) is not valid TOML (\(error)). Fix the file, or move it away to use the defaults.")
        }
    }

    /// The file's bytes; when it cannot be read, the reason (the errno's), with permissions advice
    /// only when permissions are the reason.
    static func contents(of path: String, tool: String) throws(ConfigError) -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path) { return [UInt8](data) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ConfigError(.unreadable, message: "cannot read \(path): it is a directory, not a file. Move it away (\(tool) expects a TOML file there).")
        }
        let code = access(path, R_OK) == 0 ? EIO : errno
        let advice = code == EACCES ? "Check its permissions (`ls -l \(path)`): your user must be able to read it."
            : "Fix the file, or move it away to use the defaults."
        throw ConfigError(.unreadable, message: "cannot read \(path): \(String(cString: strerror(code))). \(advice)")
    }

    /// The document's settings over the current values; unknown keys become warnings.
    public mutating func merge(_ document: TOMLDocument, from path: String) throws(ConfigError) {
        for (section, content) in document.values.sorted(by: { $0.key < $1.key }) where !schema.extensionSections.contains(section) {
            guard let table = content.table else {
                warnings.append("\(path): '\(section)' is not a [section]; ignored")
                continue
            }
            for (name, value) in table.sorted(by: { $0.key < $1.key }) {
                let key = "\(section).\(name)"
                let line = document.line(of: [section, name])
                guard let setting = schema.setting(key) else {
                    warnings.append("\(path): unknown setting \(key) ignored (`\(schema.tool) config show` lists them)")
                    continue
                }
                switch (value, setting.shape) {
                case (.string(let text), _): try set(setting, text, origin: .file(path), line: line)
                case (.integer(let number), .integer), (.integer(let number), .text): try set(setting, String(number), origin: .file(path), line: line)
                case (.array(let items), .list) where items.allSatisfy({ $0.string != nil }):
                    try set(setting, items.compactMap(\.string).joined(separator: ","), origin: .file(path), line: line)
                default:
                    let expected = switch setting.shape {
                    case .integer: "a number"
                    case .text: "a quoted string"
                    case .list: "a list of quoted strings ([\"a\", \"b\"])"
                    }
                    throw ConfigError(.value(key: key), message: "\(Self.place(of: key, .file(path), line: line)) should be "
                        + "\(expected), not \(Printable.escaping(value.text)).")
                }
            }
        }
    }

    /// `<PREFIX>_SECTION_NAME` variables; empty ones are unset.
    public mutating func apply(environment: [String: String]) throws(ConfigError) {
        for setting in schema.settings {
            if let value = environment[setting.environmentName], !value.isEmpty {
                try set(setting, value, origin: .environment(setting.environmentName))
            }
        }
    }

    public mutating func apply(flags: [String: (flag: String, value: String)]) throws(ConfigError) {
        for (key, flag) in flags.sorted(by: { $0.key < $1.key }) {
            guard let setting = schema.setting(key) else { continue }
            try set(setting, flag.value, origin: .flag(flag.flag))
        }
    }

    public mutating func set(_ setting: Setting, _ value: String, origin: SettingOrigin, line: Int? = nil) throws(ConfigError) {
        if let problem = setting.problem(with: value) {
            throw ConfigError(.value(key: setting.key), message: "\(Self.place(of: setting.key, origin, line: line)) \(problem).")
        }
        entries[setting.key] = Entry(value: value, origin: origin)
    }

    /// "FILE, line 3: compose.http_port" for a file, "compose.http_port from env DEVBOX_..." otherwise.
    public static func place(of key: String, _ origin: SettingOrigin, line: Int?) -> String {
        if case .file(let path) = origin { return "\(path)\(line.map { ", line \($0)" } ?? ""): \(key)" }
        return "\(key) from \(origin)"
    }

    /// Where `key`'s value came from, as errors about combinations of settings say it.
    public func origin(of key: String) -> SettingOrigin { entries[key]?.origin ?? .builtIn }

    public func value(_ key: String) -> String? { entries[key]?.value }

    public func integer(_ key: String) -> Int { value(key).flatMap(Int.init) ?? 0 }

    /// Every setting in the schema's order, values as they may be shown.
    public var rows: [SettingRow] {
        schema.settings.map { setting in
            let entry = entries[setting.key]
            return SettingRow(key: setting.key, value: entry?.value.map(setting.shown), origin: entry?.origin.description ?? "default",
                              environment: setting.environmentName)
        }
    }
}
