import Nuvola
import Testing

@Suite struct TOMLTests {
    @Test func readsTablesKeysAndEveryValueKind() throws {
        let document = try TOML.parse(#"""
            # devbox config
            title = "Nuvola"   # trailing comment
            [repository]
            url = "https://example.com/acme/nuvola.git"
            "quoted key" = 'C:\literal\path'
            integration_branch = "new_features"
            [compose]
            http_port = 8_080
            mask = 0o755
            hex = 0xff
            ratio = 1.5e2
            enabled = true
            ports = [ 8080,
              3306, # the db
            ]
            nested.inner = "dotted"
            inline = { a = 1, b.c = "x" }
            """#)
        #expect(document["title"] == .string("Nuvola"))
        let repository = try #require(document["repository"]?.table)
        #expect(repository["url"]?.string == "https://example.com/acme/nuvola.git")
        #expect(repository["quoted key"]?.string == #"C:\literal\path"#)
        let compose = try #require(document["compose"]?.table)
        #expect(compose["http_port"]?.integer == 8080)
        #expect(compose["mask"]?.integer == 0o755)
        #expect(compose["hex"]?.integer == 255)
        #expect(compose["ratio"] == .float(150))
        #expect(compose["enabled"]?.boolean == true)
        #expect(compose["ports"] == .array([.integer(8080), .integer(3306)]))
        #expect(compose["nested"]?.table?["inner"] == .string("dotted"))
        #expect(compose["inline"] == .table(["a": .integer(1), "b": .table(["c": .string("x")])]))
    }

    @Test func stringsEscapesAndMultiline() throws {
        let document = try TOML.parse(#"""
            basic = "tab\there \"q\" \u00e9 \U0001F600"
            multi = """
            first
            second \
               joined"""
            quotes = """a""""
            literal = '''
            raw \n stays'''
            """#)
        #expect(document["basic"]?.string == "tab\there \"q\" é 😀")
        #expect(document["multi"]?.string == "first\nsecond joined")
        #expect(document["quotes"]?.string == "a\"")
        #expect(document["literal"]?.string == "raw \\n stays")
    }

    @Test func arraysOfTablesCollectEntries() throws {
        let document = try TOML.parse("""
            [[sanitize]]
            table = "users"
            column = "email"
            [[sanitize]]
            table = "users"
            column = "password"
            action = "blank"
            """)
        let rules = try #require(document["sanitize"]?.array)
        #expect(rules.count == 2)
        #expect(rules[1].table?["column"]?.string == "password")
        #expect(rules[1].table?["action"]?.string == "blank")
        #expect(rules[0].table?["action"] == nil)
    }

    @Test(arguments: [
        ("a = ", 1, "a value is missing"),
        ("[x]\na = 1\n[x]", 3, "table [x] is defined twice"),
        ("a = 1\na = 2", 2, "a is set twice"),
        ("a = bare", 1, "'bare' is not a TOML value (strings need quotes)"),
        ("a = \"open", 1, "a string is not closed"),
        ("a = 1 b = 2", 1, "unexpected 'b' after the value; put one key = value per line"),
        ("d = 2026-11-29", 1, "dates and times are not supported here; quote the value"),
        ("a = 1\n[a]", 2, "a already holds a value, so it cannot be a table"),
        ("x = \"bad \\q\"", 1, "invalid escape \\q in a string"),
    ] as [(String, Int, String)])
    func errorsNameTheLineAndTheProblem(text: String, line: Int, message: String) {
        #expect(throws: TOMLError(line: line, message: message)) { try TOML.parse(text) }
    }
}

@Suite struct TOMLDocumentTests {
    @Test func remembersTheLineOfEveryKey() throws {
        let document = try TOML.document("# top\n[compose]\nhttp_port = 1\n\nports = [\n  1,\n  2,\n]\ndb_port = 2\n[[sanitize]]\ntable = \"t\"\n")
        #expect(document.line(of: ["compose", "http_port"]) == 3)
        #expect(document.line(of: ["compose", "ports"]) == 5)
        #expect(document.line(of: ["compose", "db_port"]) == 9)
        #expect(document.values["compose"]?.table?["db_port"] == .integer(2))
    }

    @Test func bytesThatAreNotUTF8AreAnEncodingErrorWithLineAndOffset() throws {
        let error = #expect(throws: TOMLError.self) { try TOML.document(bytes: Array("a = 1\nb = \"".utf8) + [0xC3, 0x28, 0x22]) }
        #expect(error?.kind == .encoding(byteOffset: 11))
        #expect(error?.line == 2)
        #expect(error?.message == "byte 0xC3 at offset 11 is not UTF-8 (TOML files must be UTF-8)")
        #expect(try TOML.document(bytes: Array("name = \"café\"\n".utf8)).values["name"] == .string("café"))
    }
}
