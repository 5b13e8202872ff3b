import DevboxKit
import Foundation
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
