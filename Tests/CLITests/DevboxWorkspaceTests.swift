import Foundation
import Host
import Testing
import TestSupport

/// `devbox init`, `status`, `branch` and `config` as a developer types them (no containers).
@Suite struct DevboxWorkspaceTests {
    func environment(_ origin: GitOrigin, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = ["HOME": origin.directory.path, "DEVBOX_SYSTEM_CONFIG": origin.directory.file("etc.toml"),
                           // No engine here: status must still answer.
                           "DOCKER_HOST": "unix://" + origin.directory.file("no-engine.sock")]
        environment.merge(extra) { _, new in new }
        return environment
    }

    @Test func initRemembersTheFlagsAndStatusReportsTheBranch() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        try "[repository]\nintegration_branch = \"new_features\"\n".write(toFile: origin.directory.file("etc.toml"), atomically: true, encoding: .utf8)
        let env = environment(origin)
        let initialised = try await CLI.run("devbox", ["init", "--repo", origin.bare, "--dir", origin.directory.file("ws")], environment: env)
        #expect(initialised.status == 0, "\(initialised.errorOutput)")
        #expect(initialised.output.hasPrefix("Cloned \(origin.bare) into \(origin.directory.file("ws")) in "))
        #expect(initialised.output.hasSuffix("On new_features, up to date with origin/new_features.\nNext: devbox up\n"))

        // The flags were written to the user's config, so later commands find the workspace.
        let show = try await CLI.run("devbox", ["config", "show", "--json"], environment: env)
        let document = try JSONSerialization.jsonObject(with: Data(show.standardOutput)) as? [String: Any] ?? [:]
        let settings = Dictionary(uniqueKeysWithValues: (document["settings"] as? [[String: Any]] ?? []).map { ($0["key"] as! String, $0) })
        let userFile = origin.directory.file(".config/devbox/config.toml")
        #expect(settings["repository.url"]?["value"] as? String == origin.bare)
        #expect(settings["repository.url"]?["origin"] as? String == userFile)
        #expect(settings["workspace.path"]?["origin"] as? String == userFile)
        #expect(settings["repository.integration_branch"]?["origin"] as? String == origin.directory.file("etc.toml"))
        #expect(settings["compose.http_port"]?["origin"] as? String == "default")
        let text = try await CLI.run("devbox", ["config"], environment: env.merging(["DEVBOX_COMPOSE_HTTP_PORT": "9000"]) { _, new in new })
        let row = text.output.split(separator: "\n").first { $0.hasPrefix("compose.http_port ") }
        #expect(row?.split(separator: " ", omittingEmptySubsequences: true) == ["compose.http_port", "9000", "env", "DEVBOX_COMPOSE_HTTP_PORT"])

        let again = try await CLI.run("devbox", ["init"], environment: env)
        #expect(again.status == 0 && again.output.contains("is already a clone of \(origin.bare); nothing changed."))

        try "x".write(toFile: origin.directory.file("ws/scratch.txt"), atomically: true, encoding: .utf8)
        let status = try await CLI.run("devbox", ["status", "--json"], environment: env)
        #expect(status.status == 0, "\(status.errorOutput)")
        let report = try JSONSerialization.jsonObject(with: Data(status.standardOutput)) as? [String: Any] ?? [:]
        #expect(report["branch"] as? String == "new_features")
        #expect(report["integrationBranch"] as? String == "new_features")
        #expect(report["ahead"] as? Int == 0 && report["behind"] as? Int == 0)
        #expect(report["dirty"] as? Bool == true)
        #expect(report["changes"] as? [String] == ["scratch.txt"])
        #expect((report["containersProblem"] as? String)?.contains("does not answer") == true)

        let started = try await CLI.run("devbox", ["branch", "start", "fix-typo"], environment: env)
        #expect(started.status == 0)
        #expect(started.output == "Switched to fix-typo, started from origin/new_features; 1 uncommitted change(s) came along.\n")
        let human = try await CLI.run("devbox", ["status"], environment: env)
        #expect(human.output.contains("branch     on feature branch fix-typo based on new_features, up to date with origin/new_features; 1 uncommitted change."))

        let update = try await CLI.run("devbox", ["branch", "update", "--json"], environment: env)
        #expect(update.status == 1)
        #expect(update.errorOutput.contains("fix-typo follows no remote branch"))
        #expect(update.output.contains("\"error\""))
    }

    @Test func initNeverClonesOverSomeoneElsesFiles() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let target = origin.directory.file("occupied")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try "keep".write(toFile: target + "/notes.txt", atomically: true, encoding: .utf8)
        let result = try await CLI.run("devbox", ["init", "--repo", origin.bare, "--dir", target], environment: environment(origin))
        #expect(result.status == 1)
        #expect(result.errorOutput.hasPrefix("error: \(target) already exists and is not empty (1 entries)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["notes.txt"])

        let missing = try await CLI.run("devbox", ["init"], environment: environment(origin))
        #expect(missing.status == 1)
        #expect(missing.errorOutput == "error: no repository to clone: pass `devbox init --repo URL` or set repository.url in ~/.config/devbox/config.toml.\n")

        let noWorkspace = try await CLI.run("devbox", ["status"], environment: environment(origin))
        #expect(noWorkspace.status == 1 && noWorkspace.errorOutput.contains("Run `devbox init` to clone the repository there"))

        let usage = try await CLI.run("devbox", ["exec", "app"], environment: environment(origin))
        #expect(usage.status == 2 && usage.errorOutput.contains("name the command to run after --"))
    }

    @Test func aBrokenConfigFileIsNamed() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        try "[repository\n".write(toFile: origin.directory.file("etc.toml"), atomically: true, encoding: .utf8)
        let result = try await CLI.run("devbox", ["config", "show"], environment: environment(origin))
        #expect(result.status == 1)
        #expect(result.errorOutput.hasPrefix("error: \(origin.directory.file("etc.toml")) is not valid TOML (line 1: expected ']' to close the table header)."))
    }
}
