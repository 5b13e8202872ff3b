import DevboxKit
import DumpImport
import Nuvola
import Testing

@Suite struct SanitizeRulesTests {
    @Test func sanitizeRulesReadFromConfig() throws {
        let document = try TOML.parse("""
            [[sanitize]]
            table = "customer"
            column = "email"
            action = "email"
            [[sanitize]]
            table = "customer"
            column = "password"
            action = "value"
            value = "x'y"
            """)
        let rules = try SanitizeRule.rules(from: document, file: "f.toml")
        #expect(rules == [SanitizeRule(table: "customer", column: "email", action: .email),
                          SanitizeRule(table: "customer", column: "password", action: .value, value: "x'y")])
        let bad = try TOML.parse("[[sanitize]]\ntable = \"t\"\ncolumn = \"c\"\naction = \"shred\"")
        let error = #expect(throws: ConfigError.self) { try SanitizeRule.rules(from: bad, file: "f.toml") }
        #expect(error?.message == "f.toml: sanitize rule 1 has action \"shred\"; use one of hash, email, blank, null, value.")
    }
}
