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

/// The workspace commands tried as a hostile (or careless) user would.
@Suite struct DevboxWorkspaceEdgeTests {
    let base = DevboxWorkspaceTests()

    func writeSystemConfig(_ origin: GitOrigin, _ text: String) throws {
        try text.write(toFile: origin.directory.file("etc.toml"), atomically: true, encoding: .utf8)
    }

    @Test func aPasswordInTheRepositoryURLNeverReachesTheTerminal() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let port = freePort()
        try writeSystemConfig(origin, "[repository]\nurl = \"https://ada:InlinePw99@127.0.0.1:\(port)/acme/nuvola.git\"\n")
        let env = base.environment(origin)
        var results: [ProcessResult] = []
        for arguments in [["config", "show"], ["config", "show", "--json"], ["init"], ["init", "--json"], ["status"],
                          ["branch", "start", "topic"]] {
            results.append(try await CLI.run("devbox", arguments, environment: env))
        }
        for result in results {
            #expect(!result.output.contains("InlinePw99") && !result.errorOutput.contains("InlinePw99"), "\(result.output)\(result.errorOutput)")
        }
        let flag = try await CLI.run("devbox", ["init", "--repo", "https://ada:InlinePw99@127.0.0.1:\(port)/x.git"], environment: env)
        #expect(flag.status == 2)
        #expect(flag.errorOutput.hasPrefix("Error: --repo carries a password (https://127.0.0.1:\(port)/x.git with user:password@ "
            + "before the host); devbox would store it in clear"))
        #expect(!flag.errorOutput.contains("InlinePw99") && !FileManager.default.fileExists(atPath: origin.directory.file(".config/devbox/config.toml")))
        let row = results[0].output.split(separator: "\n").first { $0.hasPrefix("repository.url ") }
        #expect(row?.split(separator: " ") == ["repository.url", "https://127.0.0.1:\(port)/acme/nuvola.git", "\(origin.directory.file("etc.toml"))"])
        #expect(results[2].status == 1)
        #expect(results[2].errorOutput.hasPrefix("error: cannot reach https://127.0.0.1:\(port)/acme/nuvola.git: failed to connect"))
    }

    @Test func aRelativeRepositoryIsRecordedAbsoluteSoTheNextInitAcceptsItsWorkspace() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let env = base.environment(origin)
        let first = try await CLI.run("devbox", ["init", "--repo", "origin.git", "--dir", "ws"], environment: env,
                                      directory: origin.directory.path)
        #expect(first.status == 0, "\(first.errorOutput)")
        #expect(first.output.hasPrefix("Cloned \(origin.bare) into \(origin.directory.file("ws")) in "))
        let recorded = try String(contentsOfFile: origin.directory.file(".config/devbox/config.toml"), encoding: .utf8)
        #expect(recorded.contains("url = \"\(origin.bare)\"") && recorded.contains("path = \"\(origin.directory.file("ws"))\""))
        let again = try await CLI.run("devbox", ["init"], environment: env, directory: "/")
        #expect(again.status == 0, "\(again.errorOutput)")
        #expect(again.output.hasPrefix("\(origin.directory.file("ws")) is already a clone of \(origin.bare); nothing changed."))
    }

    @Test func aMissingRepositoryPathIsNamed() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let missing = origin.directory.file("does/not/exist.git")
        let result = try await CLI.run("devbox", ["init", "--repo", missing, "--dir", origin.directory.file("ws")],
                                       environment: base.environment(origin))
        #expect(result.status == 1)
        #expect(result.errorOutput == "error: the repository \(missing) does not exist (no such file or directory). Check "
            + "repository.url (or `devbox init --repo PATH`): give the path of an existing clone or bare repository.\n")
        #expect(!FileManager.default.fileExists(atPath: origin.directory.file(".config/devbox/config.toml")))
        let empty = try await CLI.run("devbox", ["init", "--repo", " "], environment: base.environment(origin))
        #expect(empty.status == 2 && empty.errorOutput.hasPrefix("Error: --repo needs the repository's URL or path"))
        let branch = try await CLI.run("devbox", ["init", "--branch", "a..b"], environment: base.environment(origin))
        #expect(branch.status == 2)
        #expect(branch.errorOutput.hasPrefix("Error: --branch \"a..b\" is not a valid branch name: it contains '..', which git reads as a range of commits.\n"))
        let tail = try await CLI.run("devbox", ["logs", "--tail", "-5"], environment: base.environment(origin))
        #expect(tail.status == 2 && tail.errorOutput.hasPrefix("Error: --tail is a number of lines, 0 or more (not -5).\n"))
    }

    @Test(arguments: [("bad name", "it contains a space (git allows no spaces, control characters or any of ~ ^ : ? * [ \\ in a name)"),
                      ("..", "it contains '..', which git reads as a range of commits"),
                      ("HEAD", "HEAD is git's name for the current commit, not a branch")])
    func branchNamesAreCheckedAgainstGitsRules(name: String, rule: String) async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let result = try await CLI.run("devbox", ["branch", "start", name], environment: base.environment(origin))
        #expect(result.status == 2)
        #expect(result.errorOutput.hasPrefix("Error: \"\(name)\" is not a valid branch name: \(rule). Pick another, "
            + "e.g. `devbox branch start fix-invoice-rounding`.\n"))
    }

    @Test func branchStartFromADetachedHeadKeepsItsCommits() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let env = base.environment(origin)
        let ws = origin.directory.file("ws")
        #expect(try await CLI.run("devbox", ["init", "--repo", origin.bare, "--dir", ws], environment: env).status == 0)
        try await origin.git(["-C", ws, "checkout", "--quiet", "--detach"])
        try await origin.commit("spike.txt", "spike\n", "a spike worth keeping", in: ws)
        let head = try await origin.git(["-C", ws, "rev-parse", "HEAD"])

        let status = try await CLI.run("devbox", ["status"], environment: env)
        #expect(status.output.contains("HEAD is detached (not on a branch). Start a branch for this work: `devbox branch start <topic>`."))
        let started = try await CLI.run("devbox", ["branch", "start", "keep-spike"], environment: env)
        #expect(started.status == 0, "\(started.errorOutput)")
        #expect(started.output == "Switched to keep-spike, started from HEAD to keep the 1 commit(s) that were on no branch: "
            + "\(head.prefix(7)) a spike worth keeping. `devbox status` shows how it stands against the integration branch.\n")
        #expect(try await origin.git(["-C", ws, "rev-parse", "keep-spike"]) == head)
        #expect(try await origin.git(["-C", ws, "branch", "--show-current"]) == "keep-spike")
    }

    @Test func badConfigValuesNameTheFileAndLine() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let file = origin.directory.file("etc.toml")
        try writeSystemConfig(origin, "[compose]\nhttp_port = 99999\n")
        let port = try await CLI.run("devbox", ["config", "show"], environment: base.environment(origin))
        #expect(port.status == 1)
        #expect(port.errorOutput == "error: \(file), line 2: compose.http_port must be a port number between 1 and 65535, not 99999.\n")

        try Data(Array("[repository]\nurl = \"caf".utf8) + [0xE9, 0x22, 0x0A]).write(to: URL(fileURLWithPath: file))
        let encoding = try await CLI.run("devbox", ["config", "show"], environment: base.environment(origin))
        #expect(encoding.status == 1)
        #expect(encoding.errorOutput == "error: \(file) is not UTF-8 text: on line 2, byte 0xE9 at offset 23 is not UTF-8 (TOML "
            + "files must be UTF-8). Save it as UTF-8, or move it away to use the defaults.\n")
        #expect(!encoding.errorOutput.contains("..") && !encoding.errorOutput.contains("permissions"))
    }

    @Test func statusHelpDocumentsEveryJSONField() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let env = base.environment(origin)
        #expect(try await CLI.run("devbox", ["init", "--repo", origin.bare, "--dir", origin.directory.file("ws")], environment: env).status == 0)
        let status = try await CLI.run("devbox", ["status", "--json"], environment: env)
        let report = try JSONSerialization.jsonObject(with: Data(status.standardOutput)) as? [String: Any] ?? [:]
        let check = report["check"] as? [String: Any] ?? [:]
        let help = try await CLI.run("devbox", ["status", "--help"]).output
        #expect(report.keys.contains("workspace") && report.keys.contains("containersProblem"))
        for key in Array(report.keys) + Array(check.keys) {
            #expect(help.contains(key), "status --help does not mention \(key)")
        }
    }
}
