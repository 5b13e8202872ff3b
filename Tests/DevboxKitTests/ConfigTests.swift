import DevboxKit
import Foundation
import Host
import Terminal
import Testing
import TestSupport

@Suite struct ConfigTests {
    struct Setup {
        let directory: TemporaryDirectory
        var environment: [String: String]
        var paths: DevboxPaths { DevboxPaths(environment: environment) }

        init(system: String?, user: String?, extra: [String: String] = [:]) throws {
            directory = try TemporaryDirectory()
            environment = ["HOME": directory.path, "DEVBOX_SYSTEM_CONFIG": directory.file("etc-config.toml")]
            environment.merge(extra) { _, new in new }
            if let system { try system.write(toFile: directory.file("etc-config.toml"), atomically: true, encoding: .utf8) }
            if let user {
                try FileManager.default.createDirectory(atPath: directory.file(".config/devbox"), withIntermediateDirectories: true)
                try user.write(toFile: directory.file(".config/devbox/config.toml"), atomically: true, encoding: .utf8)
            }
        }
    }

    @Test func laterSourcesWinAndEachValueKnowsItsOrigin() throws {
        let setup = try Setup(system: """
            [repository]
            url = "https://git.example.com/acme/nuvola.git"
            integration_branch = "develop"
            [compose]
            http_port = 8081
            """, user: """
            [compose]
            http_port = 9090
            """, extra: ["DEVBOX_COMPOSE_PROJECT": "mine"])
        defer { setup.directory.remove() }
        let config = try DevboxConfig.load(paths: setup.paths, environment: setup.environment,
                                           flags: ["workspace.path": ("--dir", "/srv/work")])
        #expect(config.repositoryURL == "https://git.example.com/acme/nuvola.git")
        #expect(config.entries["repository.url"]?.origin == .file(setup.directory.file("etc-config.toml")))
        #expect(config.integrationBranch == "develop")
        #expect(config.httpPort == 9090)
        #expect(config.entries["compose.http_port"]?.origin == .file(setup.directory.file(".config/devbox/config.toml")))
        #expect(config.composeProject == "mine")
        #expect(config.entries["compose.project"]?.origin == .environment("DEVBOX_COMPOSE_PROJECT"))
        #expect(config.workspacePath == "/srv/work")
        #expect(config.entries["workspace.path"]?.origin == .flag("--dir"))
        #expect(config.databasePort == 3306)
        #expect(config.entries["compose.db_port"]?.origin == .builtIn)
        let row = try #require(config.rows.first { $0.key == "compose.http_port" })
        #expect(row.environment == "DEVBOX_COMPOSE_HTTP_PORT")
    }

    @Test func defaultsWithoutFilesAndTildeExpansion() throws {
        let setup = try Setup(system: nil, user: nil)
        defer { setup.directory.remove() }
        let config = try DevboxConfig.load(paths: setup.paths, environment: setup.environment)
        #expect(config.workspacePath == setup.directory.path + "/nuvola")
        #expect(config.integrationBranch == "new_features")
        #expect(config.productionBranch == "main")
        #expect(config.repositoryURL == nil)
        #expect(config.warnings.isEmpty)
    }

    @Test func badFilesAndValuesAreExplained() throws {
        let broken = try Setup(system: "[repository\nurl = 1", user: nil)
        defer { broken.directory.remove() }
        let parse = #expect(throws: ConfigError.self) { try DevboxConfig.load(paths: broken.paths, environment: broken.environment) }
        #expect(parse?.message.hasPrefix("\(broken.directory.file("etc-config.toml")) is not valid TOML (line 1:") == true)

        let wrongKind = try Setup(system: "[compose]\nhttp_port = true", user: nil)
        defer { wrongKind.directory.remove() }
        let kind = #expect(throws: ConfigError.self) { try DevboxConfig.load(paths: wrongKind.paths, environment: wrongKind.environment) }
        #expect(kind?.message.hasSuffix("compose.http_port should be a number, not true.") == true)

        let badEnvironment = try Setup(system: nil, user: nil, extra: ["DEVBOX_COMPOSE_DB_PORT": "abc"])
        defer { badEnvironment.directory.remove() }
        let number = #expect(throws: ConfigError.self) {
            try DevboxConfig.load(paths: badEnvironment.paths, environment: badEnvironment.environment)
        }
        #expect(number?.message == "compose.db_port from env DEVBOX_COMPOSE_DB_PORT must be a whole number, not 'abc'.")

        let unknown = try Setup(system: "[compose]\nhttp_prot = 1\n[[sanitize]]\ntable = \"users\"\ncolumn = \"email\"", user: nil)
        defer { unknown.directory.remove() }
        let config = try DevboxConfig.load(paths: unknown.paths, environment: unknown.environment)
        #expect(config.warnings == ["\(unknown.directory.file("etc-config.toml")): unknown setting compose.http_prot ignored (`devbox config show` lists them)"])
    }

    @Test func recordKeepsTheRestOfTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("sub/config.toml")
        try DevboxConfig.record([(key: "repository.url", value: "https://a/b.git")], in: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "[repository]\nurl = \"https://a/b.git\"\n")
        try """
            # mine
            [repository]
            url = "old" # comment
            [compose]
            http_port = 1
            """.write(toFile: path, atomically: true, encoding: .utf8)
        try DevboxConfig.record([(key: "repository.url", value: "new \"q\""), (key: "workspace.path", value: "/w"),
                                 (key: "compose.project", value: "p")], in: path)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == """
            # mine
            [repository]
            url = "new \\"q\\""
            [compose]
            http_port = 1
            project = "p"

            [workspace]
            path = "/w"

            """)
    }
}

/// Values devbox would misuse are refused where they are written: the file and line, or the variable.
@Suite struct ConfigValidationTests {
    typealias Setup = ConfigTests.Setup

    func failure(system: String? = nil, extra: [String: String] = [:]) throws -> (String, String?) {
        let setup = try Setup(system: system, user: nil, extra: extra)
        defer { setup.directory.remove() }
        let error = #expect(throws: ConfigError.self) { try DevboxConfig.load(paths: setup.paths, environment: setup.environment) }
        return (setup.directory.file("etc-config.toml"), error?.message)
    }

    func failureKind(system: String) throws -> ConfigError.Kind? {
        let setup = try Setup(system: system, user: nil)
        defer { setup.directory.remove() }
        return #expect(throws: ConfigError.self) { try DevboxConfig.load(paths: setup.paths, environment: setup.environment) }?.kind
    }

    @Test(arguments: [
        ("[compose]\nhttp_port = 99999", "line 2: compose.http_port must be a port number between 1 and 65535, not 99999."),
        ("[compose]\n\n# the database\ndb_port = -5", "line 4: compose.db_port must be a port number between 1 and 65535, not -5."),
        ("[compose]\nhealth_timeout = -1", "line 2: compose.health_timeout must be at least 1, not -1."),
        ("[dumps]\nmax_age_hours = 0", "line 2: dumps.max_age_hours must be at least 1, not 0."),
        ("[workspace]\npath = \"nuvola\"", "line 2: workspace.path must be an absolute path or start with ~/, not 'nuvola' "
            + "(a relative path means another place from every directory)."),
        ("[repository]\nurl = \"app.git\"", "line 2: repository.url is the relative path 'app.git'; write the repository's "
            + "absolute path (a relative path means another repository from every directory)."),
        ("[repository]\nintegration_branch = \"new features\"", "line 2: repository.integration_branch is not a valid branch "
            + "name ('new features'): it contains a space (git allows no spaces, control characters or any of ~ ^ : ? * [ \\ in a name)."),
        ("[compose]\nproject = \"My App\"", "line 2: compose.project must be lowercase letters, digits, '-' and '_', beginning "
            + "with a letter or digit (compose's rule for project names), not 'My App'."),
        ("[compose]\nhttp_port = true", "line 2: compose.http_port should be a number, not true."),
    ])
    func badValuesInAFileNameTheFileAndLine(toml: String, expected: String) throws {
        let (file, message) = try failure(system: toml)
        #expect(message == "\(file), \(expected)")
        let key = String(expected.split(separator: " ")[2])
        #expect(try failureKind(system: toml) == .value(key: key))
    }

    @Test func badValuesFromTheEnvironmentNameTheVariable() throws {
        #expect(try failure(extra: ["DEVBOX_COMPOSE_HTTP_PORT": "0"]).1
            == "compose.http_port from env DEVBOX_COMPOSE_HTTP_PORT must be a port number between 1 and 65535, not 0.")
        #expect(try failure(extra: ["DEVBOX_COMPOSE_DB_PORT": "8080"]).1
            == "compose.http_port from default and compose.db_port from env DEVBOX_COMPOSE_DB_PORT are both 8080; the app and "
            + "the database each need a port of their own. Change one of them.")
    }

    @Test func aFileThatIsNotUTF8SaysSoWithLineAndOffset() throws {
        let setup = try Setup(system: nil, user: nil)
        defer { setup.directory.remove() }
        let file = setup.directory.file("etc-config.toml")
        try Data(Array("[repository]\nurl = \"caf".utf8) + [0xE9] + Array("\"\n".utf8)).write(to: URL(fileURLWithPath: file))
        let error = #expect(throws: ConfigError.self) { try DevboxConfig.load(paths: setup.paths, environment: setup.environment) }
        #expect(error?.kind == .malformed)
        #expect(error?.message == "\(file) is not UTF-8 text: on line 2, byte 0xE9 at offset 23 is not UTF-8 (TOML files must "
            + "be UTF-8). Save it as UTF-8, or move it away to use the defaults.")
    }

    @Test func anUnreadableFileSaysWhy() throws {
        let setup = try Setup(system: nil, user: nil)
        defer { setup.directory.remove() }
        let file = setup.directory.file("etc-config.toml")
        try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: true)
        let error = #expect(throws: ConfigError.self) { try DevboxConfig.load(paths: setup.paths, environment: setup.environment) }
        #expect(error?.kind == .unreadable)
        #expect(error?.message == "cannot read \(file): it is a directory, not a file. Move it away (devbox expects a TOML file there).")
    }

    @Test func recordingKeepsAPrivateFilePrivate() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("config.toml")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("[compose]\nhttp_port = 8081\n".utf8),
                                               attributes: [.posixPermissions: 0o600]))
        try DevboxConfig.record([(key: "workspace.path", value: "/w")], in: path)
        #expect(SecretFile.mode(of: path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "[compose]\nhttp_port = 8081\n\n[workspace]\npath = \"/w\"\n")
    }

    @Test func passwordsInURLsAndControlCharactersNeverReachTheOutput() throws {
        let setup = try Setup(system: """
            [repository]
            url = "https://ada:InlinePw99@git.example.com/acme/nuvola.git"
            [dumps]
            location = "s3://ada:DumpPw77@bucket/dumps/"
            [aws]
            region = "eu\\e[2J-west-3"
            """, user: nil)
        defer { setup.directory.remove() }
        let config = try DevboxConfig.load(paths: setup.paths, environment: setup.environment)
        #expect(config.repositoryURL == "https://ada:InlinePw99@git.example.com/acme/nuvola.git")
        let report = ConfigReport(config: config, paths: setup.paths)
        let json = try JSONDocument.encode(report)
        for output in [json, report.render()] {
            #expect(!output.contains("InlinePw99") && !output.contains("DumpPw77"))
            #expect(!output.contains("\u{1B}"))
        }
        #expect(report.settings.first { $0.key == "repository.url" }?.value == "https://git.example.com/acme/nuvola.git")
        #expect(report.render().contains("eu\\u{1b}[2J-west-3"))
    }
}
