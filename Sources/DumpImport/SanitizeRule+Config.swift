import Foundation
import Nuvola

extension SanitizeRule {
    /// Reads the rules of one config file's `sanitize` array; throws a message naming the problem.
    public static func rules(from document: [String: TOMLValue], file: String) throws(ConfigError) -> [SanitizeRule] {
        guard let entries = document["sanitize"] else { return [] }
        guard let array = entries.array else {
            throw ConfigError(message: "\(file): sanitize must be an array of tables ([[sanitize]]).")
        }
        return try array.enumerated().map { (index, entry) throws(ConfigError) in
            let table = entry.table ?? [:]
            guard let name = table["table"]?.string, let column = table["column"]?.string else {
                throw ConfigError(message: "\(file): sanitize rule \(index + 1) needs table = \"...\" and column = \"...\".")
            }
            let actionName = table["action"]?.string ?? "hash"
            guard let action = Action(rawValue: actionName) else {
                throw ConfigError(message: "\(file): sanitize rule \(index + 1) has action \"\(actionName)\"; use one of "
                    + Action.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            let value = table["value"]?.string
            if action == .value, value == nil {
                throw ConfigError(message: "\(file): sanitize rule \(index + 1) (action = \"value\") needs value = \"...\".")
            }
            return SanitizeRule(table: name, column: column, action: action, value: value)
        }
    }
}

extension SanitizeRule {
    /// The rule as a `[[sanitize]]` table of config.toml, as `rules(from:file:)` reads it back
    /// (adminctl hands its rules to the devbox that loads the dev database this way).
    public var configTable: String {
        var lines = ["[[sanitize]]", "table = \(Self.tomlString(table))", "column = \(Self.tomlString(column))",
                     "action = \(Self.tomlString(action.rawValue))"]
        if let value { lines.append("value = \(Self.tomlString(value))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A TOML basic string: quotes, backslashes and control characters escaped.
    public static func tomlString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                quoted += String(format: "\\u%04X", scalar.value)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
