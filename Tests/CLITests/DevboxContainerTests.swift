import Foundation
import Host
import HTTP
import Testing
import TestSupport

/// `devbox up/status/db/exec/logs/down` against a real dockerd (scripts/engine), on the fixture
/// app cloned from a local origin. Each test has its own compose project and ports.
@Suite(.serialized) struct DevboxContainerTests {
    struct Project {
        let origin: GitOrigin
        var environment: [String: String]
        var name: String { environment["DEVBOX_COMPOSE_PROJECT"]! }
        var httpPort: Int { Int(environment["DEVBOX_COMPOSE_HTTP_PORT"]!)! }

        func devbox(_ arguments: String..., input: [UInt8]? = nil) async throws -> ProcessResult {
            try await CLI.run("devbox", arguments, environment: environment, input: input, timeout: .seconds(900))
        }

        /// compose directly, for cleanup and for looking behind devbox's back.
        func compose(_ arguments: [String]) async throws -> ProcessResult {
            try await ChildProcess.run("docker-compose", ["--project-name", name, "--file", environment["DEVBOX_COMPOSE_DIRECTORY"]! + "/compose.yaml"] + arguments,
                                       environment: environment.merging(["NUVOLA_DB_PASSWORD": "x", "NUVOLA_WORKSPACE": "/tmp"]) { a, _ in a },
                                       timeout: .seconds(120))
        }
    }

    /// Runs `body` with an initialised workspace and removes the project (and its volume) after.
    func withProject(composeDirectory: String? = nil, _ body: (Project) async throws -> Void) async throws {
        let dockerHost = try await TestEngine.dockerHost()
        let origin = try await GitOrigin.nuvolaApp()
        defer { origin.directory.remove() }
        let project = Project(origin: origin, environment: [
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": origin.directory.path, "DOCKER_HOST": dockerHost,
            "DEVBOX_SYSTEM_CONFIG": origin.directory.file("none.toml"),
            "DEVBOX_REPOSITORY_URL": origin.bare, "DEVBOX_WORKSPACE_PATH": origin.directory.file("nuvola"),
            "DEVBOX_COMPOSE_PROJECT": "test" + UUID().uuidString.prefix(8).lowercased(),
            "DEVBOX_COMPOSE_DIRECTORY": composeDirectory ?? TestEngine.repositoryRoot + "/compose",
            "DEVBOX_COMPOSE_HTTP_PORT": String(freePort()), "DEVBOX_COMPOSE_DB_PORT": String(freePort()),
            "DEVBOX_COMPOSE_HEALTH_TIMEOUT": "240",
        ])
        let initialised = try await project.devbox("init")
        try #require(initialised.succeeded, "devbox init: \(initialised.errorOutput)")
        do {
            try await body(project)
        } catch {
            _ = try? await project.compose(["down", "--volumes"])
            throw error
        }
        _ = try? await project.compose(["down", "--volumes"])
    }

    func page(_ port: Int) async throws -> String {
        let response = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test func upServesRowsFromTheDatabaseAndDataSurvivesDownAndUp() async throws {
        try await withProject { project in
            let up = try await project.devbox("up")
            try #require(up.succeeded, "devbox up: \(up.errorOutput)")
            #expect(up.output.contains("The app is up in"))
            #expect(up.output.contains("app       http://127.0.0.1:\(project.httpPort)/"))
            #expect(up.errorOutput.contains("Branch: on new_features, up to date with origin/new_features."))
            #expect(try await page(project.httpPort).contains("<li>Cumulus subscription — 19.00 €</li>"))

            // The password is in .env.local (0600) and nowhere in devbox's output.
            let envLocal = project.environment["DEVBOX_WORKSPACE_PATH"]! + "/.env.local"
            let attributes = try FileManager.default.attributesOfItem(atPath: envLocal)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let password = try String(contentsOfFile: project.origin.directory.file(".local/state/devbox/\(project.name).db-password"),
                                      encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(password.count == 24)
            #expect(try String(contentsOfFile: envLocal, encoding: .utf8).contains("mysql://nuvola:\(password)@db:3306/nuvola"))
            #expect(!up.output.contains(password) && !up.errorOutput.contains(password))

            let status = try await project.devbox("status", "--json")
            #expect(status.succeeded)
            let document = try JSONSerialization.jsonObject(with: Data(status.standardOutput)) as? [String: Any] ?? [:]
            #expect(document["branch"] as? String == "new_features")
            #expect(document["integrationBranch"] as? String == "new_features")
            #expect(document["behind"] as? Int == 0 && document["ahead"] as? Int == 0)
            #expect(document["dirty"] as? Bool == false)
            let containers = document["containers"] as? [[String: Any]] ?? []
            #expect(containers.map { $0["service"] as? String } == ["app", "db"])
            #expect(containers.allSatisfy { $0["health"] as? String == "healthy" && $0["state"] as? String == "running" })

            let insert = try await project.devbox("db", "--", "-e", "INSERT INTO product (name, price_cents) VALUES ('Kept across restarts', 100)")
            #expect(insert.succeeded, "\(insert.errorOutput)")
            let php = try await project.devbox("exec", "app", "--", "php", "-r", "echo PHP_VERSION;")
            #expect(php.output.hasPrefix("8.2."))
            let logs = try await project.devbox("logs", "--tail", "20", "app")
            #expect(logs.output.contains("migrated Version20260101000000"))

            let down = try await project.devbox("down")
            #expect(down.succeeded && down.output.contains("the database's data is kept"))
            let again = try await project.devbox("up")
            try #require(again.succeeded, "second devbox up: \(again.errorOutput)")
            #expect(try await page(project.httpPort).contains("Kept across restarts"))

            // Deleting data asks; without a terminal it needs --yes.
            let refused = try await project.devbox("down", "--volumes")
            #expect(refused.status == 2 && refused.errorOutput.contains("without a terminal to ask, add --yes"))
            let removed = try await project.devbox("down", "--volumes", "--yes", "--json")
            #expect(removed.succeeded && removed.output.contains("\"removedData\" : true"))
            let volumes = try await ChildProcess.run("docker", ["volume", "ls", "--quiet"], environment: project.environment)
            #expect(!volumes.output.contains("\(project.name)_db-data"))
        }
    }

    @Test func aFailingDatabaseHealthCheckIsReportedWithItsOutputAndLogs() async throws {
        // A copy of compose/ whose db health check asks for a database that does not exist.
        let copy = try TemporaryDirectory()
        defer { copy.remove() }
        let directory = copy.file("compose")
        try FileManager.default.copyItem(atPath: TestEngine.repositoryRoot + "/compose", toPath: directory)
        var yaml = try String(contentsOfFile: directory + "/compose.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: #"\"$$MARIADB_DATABASE\" >/dev/null"#, with: "no_such_database")
            // Failures while the server starts do not count (start_period), so the three that do are
            // the missing database's, not a server still starting on a loaded machine.
            .replacingOccurrences(of: "retries: 30\n      start_period: 60s", with: "retries: 3\n      start_period: 20s")
        try yaml.write(toFile: directory + "/compose.yaml", atomically: true, encoding: .utf8)

        try await withProject(composeDirectory: directory) { project in
            let up = try await project.devbox("up")
            #expect(up.status == 1)
            #expect(up.errorOutput.contains("error: db is running, unhealthy. Its last health check said:"))
            #expect(up.errorOutput.contains("Unknown database 'no_such_database'"))
            #expect(up.errorOutput.contains("Last log lines of db:"))
            #expect(up.errorOutput.contains("The project is stopped and its data kept"))
            let states = try await project.compose(["ps", "--services", "--filter", "status=running"])
            #expect(states.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        }
    }

    @Test func aBusyPortADeadEngineAndABrokenComposeFileAreExplained() async throws {
        try await withProject { project in
            // Something else holds the app's port.
            let listener = LoopbackListener(port: project.httpPort)
            defer { listener.close() }
            let busy = try await project.devbox("up")
            #expect(busy.status == 1)
            #expect(busy.errorOutput.contains("error: port \(project.httpPort) on 127.0.0.1 is already in use by another program"))
            #expect(busy.errorOutput.contains("set compose.http_port in ~/.config/devbox/config.toml (or DEVBOX_COMPOSE_HTTP_PORT)"))

            var dead = project
            dead.environment["DOCKER_HOST"] = "unix://" + project.origin.directory.file("no-engine.sock")
            let noEngine = try await dead.devbox("up")
            #expect(noEngine.status == 1)
            #expect(noEngine.errorOutput.contains("engine at unix://\(project.origin.directory.file("no-engine.sock")) does not answer"))
            let status = try await dead.devbox("status")
            #expect(status.succeeded && status.output.contains("containers unknown: the docker engine at"))

            let broken = project.origin.directory.file("broken-compose")
            try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
            try "services:\n  db: [not, a, mapping]\n".write(toFile: broken + "/compose.yaml", atomically: true, encoding: .utf8)
            var invalid = project
            invalid.environment["DEVBOX_COMPOSE_DIRECTORY"] = broken
            invalid.environment["DEVBOX_COMPOSE_HTTP_PORT"] = String(freePort())
            let rejected = try await invalid.devbox("up")
            #expect(rejected.status == 1)
            #expect(rejected.errorOutput.contains("error: \(broken)/compose.yaml is not a valid compose file: "))
            #expect(rejected.errorOutput.contains("must be a mapping"))

            let noWorkspace = try await CLI.run("devbox", ["up"], environment: project.environment.merging(
                ["DEVBOX_WORKSPACE_PATH": project.origin.directory.file("elsewhere")]) { _, new in new })
            #expect(noWorkspace.status == 1 && noWorkspace.errorOutput.contains("there is no workspace at"))
        }
    }
}
