import MySQL

/// A sanitising rule (devbox reads them from config.toml's `[[sanitize]]` tables): what to do to
/// one column of one table before production data becomes visible outside production.
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

    /// The UPDATE that applies the rule in `schema`.
    public func statement(in schema: String) -> String {
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
