import MySQL
import Nuvola

/// A rule from config.toml's `[[sanitize]]` tables: what to do to one column of one table
/// before production data becomes visible locally.
///
///     [[sanitize]]
///     table = "customer"
///     column = "email"
///     action = "email"     # hash | email | blank | null | value (with value = "...")
public struct SanitizeRule: Sendable, Equatable, Encodable {
    public enum Action: String, Sendable, Encodable, CaseIterable {
        /// SHA-256 of the value (hex): still unique, no longer readable.
        case hash
        /// `<first 16 hex of SHA-256>@example.invalid`: unique, valid, undeliverable.
        case email
        /// The empty string.
        case blank
        case null
        /// A fixed value (`value = "..."`), e.g. one known password hash for every user.
        case value
    }

    public var table: String
    public var column: String
    public var action: Action
    public var value: String?

    public init(table: String, column: String, action: Action, value: String? = nil) {
        self.table = table
        self.column = column
        self.action = action
        self.value = value
    }

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

    /// The UPDATE that applies the rule in `schema`.
    func statement(in schema: String) -> String {
        let column = MySQLConnection.identifier(self.column)
        let expression = switch action {
        case .hash: "SHA2(\(column), 256)"
        case .email: "CONCAT(LEFT(SHA2(\(column), 256), 16), '@example.invalid')"
        case .blank: "''"
        case .null: "NULL"
        case .value: MySQLConnection.quote(value ?? "")
        }
        return "UPDATE \(MySQLConnection.identifier(schema)).\(MySQLConnection.identifier(table)) SET \(column) = \(expression)"
            + (action == .null || action == .value ? "" : " WHERE \(column) IS NOT NULL")
    }
}
