import DumpImport
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
