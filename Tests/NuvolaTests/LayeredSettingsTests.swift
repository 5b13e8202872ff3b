import Foundation
import Nuvola
import Testing
import TestSupport

/// The engine both tools' configurations stand on, with a schema of its own.
@Suite struct LayeredSettingsTests {
    static let schema = SettingsSchema(tool: "tool", environmentPrefix: "TOOL", settings: [
        Setting(key: "a.name", defaultValue: "x", help: "a name", rule: { $0.contains(" ") ? "may not hold spaces" : nil }),
        Setting(key: "a.count", defaultValue: "1", help: "a count", shape: .integer(1...9)),
        Setting(key: "b.items", help: "a list", shape: .list),
        Setting(key: "b.secret", help: "shown masked", shown: { _ in "***" }),
    ], extensionSections: ["extra"])

    @Test func laterLayersWinAndEachValueKeepsItsOrigin() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = directory.file("first.toml"), second = directory.file("second.toml")
        try "[a]\nname = \"one\"\ncount = 2\n[b]\nitems = [\"p\", \"q\"]\nsecret = \"s\"\n[[extra]]\nk = 1\n".write(toFile: first, atomically: true, encoding: .utf8)
        try "[a]\nname = \"two\"\n".write(toFile: second, atomically: true, encoding: .utf8)
        var settings = LayeredSettings(schema: Self.schema)
        var extensionsSeen: [String] = []
        try settings.load(files: [first, directory.file("missing.toml"), second], environment: ["TOOL_A_COUNT": "3", "TOOL_B_ITEMS": ""],
                          flags: ["a.count": ("--count", "4"), "nothing.here": ("--x", "y")]) { (document, path) throws(ConfigError) in
            if document.values["extra"] != nil { extensionsSeen.append(path) }
        }
        #expect(extensionsSeen == [first])
        #expect(settings.value("a.name") == "two" && settings.origin(of: "a.name") == .file(second))
        #expect(settings.value("a.count") == "4" && settings.origin(of: "a.count") == .flag("--count"))
        #expect(settings.value("b.items") == "p,q" && Setting.items(settings.value("b.items") ?? "") == ["p", "q"])
        #expect(settings.warnings.isEmpty)
        let rows = settings.rows
        #expect(rows.map(\.key) == ["a.name", "a.count", "b.items", "b.secret"])
        #expect(rows.map(\.environment) == ["TOOL_A_NAME", "TOOL_A_COUNT", "TOOL_B_ITEMS", "TOOL_B_SECRET"])
        #expect(rows[3].value == "***" && rows[3].origin == first)
        #expect(SettingsReport(settings: rows, files: [first]).render().split(separator: "\n").count == 5)
    }

    @Test func rulesNameWhereTheValueWasWritten() throws {
        var settings = LayeredSettings(schema: Self.schema)
        let environment = #expect(throws: ConfigError.self) { try settings.apply(environment: ["TOOL_A_NAME": "a b"]) }
        #expect(environment?.message == "a.name from env TOOL_A_NAME may not hold spaces.")
        #expect(environment?.kind == .value(key: "a.name"))
        let flag = #expect(throws: ConfigError.self) { try settings.apply(flags: ["a.count": ("--count", "10")]) }
        #expect(flag?.message == "a.count from flag --count must be between 1 and 9, not 10.")
        let document = try TOML.document("[a]\nname = \"ok\"\n\n[b]\nitems = [1]\n")
        let file = #expect(throws: ConfigError.self) { try settings.merge(document, from: "/f.toml") }
        #expect(file?.message == "/f.toml, line 5: b.items should be a list of quoted strings ([\"a\", \"b\"]), not [1].")
        try settings.merge(try TOML.document("top = 1\n[a]\nnam = \"x\"\n"), from: "/g.toml")
        #expect(settings.warnings == ["/g.toml: unknown setting a.nam ignored (`tool config show` lists them)",
                                      "/g.toml: 'top' is not a [section]; ignored"])
    }
}
