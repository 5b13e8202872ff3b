import Foundation
import Host
import Testing
import TestSupport

/// `adminctl init` and `adminctl config show` as an admin runs them: files, exit codes, stderr.
@Suite struct AdminctlConfigTests {
    /// A project directory and a HOME of its own, so no ~/.config/adminctl leaks in.
    struct Setup {
        let directory: TemporaryDirectory
        var project: String { directory.file("project") }
        var file: String { directory.file("project/adminctl.toml") }

        init() throws {
            directory = try TemporaryDirectory()
            try FileManager.default.createDirectory(atPath: directory.file("project/app/src"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: directory.file("home"), withIntermediateDirectories: true)
        }

        func run(_ arguments: [String], in subdirectory: String = "", environment: [String: String] = [:]) async throws -> ProcessResult {
            try await CLI.run("adminctl", arguments, environment: ["HOME": directory.file("home")].merging(environment) { $1 },
                              directory: project + subdirectory)
        }

        func settings(_ result: ProcessResult) throws -> [String: [String: String]] {
            let document = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
            let rows = try #require(document["settings"] as? [[String: String]])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] ?? "", $0) })
        }
    }

    @Test func initWritesACommentedFileFromWhatItCanGuess() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let result = try await setup.run(["init", "--yes", "--repo", "https://github.com/acme/Shop-App.git"],
                                         environment: ["AWS_REGION": "eu-west-1"])
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.output.hasPrefix("Wrote \(setup.file) (project shop-app, region eu-west-1)."))
        let attributes = try FileManager.default.attributesOfItem(atPath: setup.file)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        let text = try String(contentsOfFile: setup.file, encoding: .utf8)
        #expect(text.contains("[project]\n# lowercase, 3-20 characters: it names the stack, buckets, IAM roles and parameters\nname = \"shop-app\"\n"))
        #expect(text.contains("url = \"https://github.com/acme/Shop-App.git\"\n"))
        #expect(text.contains("# admin_cidrs = [\"198.51.100.7/32\"]\n"))
        let artifacts = try #require(text.split(separator: "\n").first { $0.hasPrefix("artifacts = ") })
        #expect(artifacts.hasPrefix("artifacts = \"shop-app-") && artifacts.hasSuffix("-artifacts\""))
    }

    @Test func initPrintsWhatItWroteAsJSON() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let result = try await setup.run(["init", "--yes", "--name", "shop", "--region", "eu-west-3", "--dir", setup.directory.path, "--json"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
        #expect(document["file"] as? String == setup.directory.file("adminctl.toml"))
        let settings = try #require(document["settings"] as? [String: String])
        #expect(settings["project.name"] == "shop" && settings["aws.region"] == "eu-west-3" && settings["prod.min_size"] == "2")
        #expect(document["unset"] as? [String] == ["repository.url", "network.admin_cidrs", "network.certificate_arn"])
    }

    @Test func initNeverOverwritesAnExistingFile() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try "[project]\nname = \"mine\"\n".write(toFile: setup.file, atomically: true, encoding: .utf8)
        let result = try await setup.run(["init", "--yes", "--name", "shop"])
        #expect(result.status == 1)
        #expect(result.errorOutput.contains("\(setup.file) already exists; adminctl init never overwrites it. `adminctl config show` prints what it holds"))
        #expect(result.output.isEmpty)
        #expect(try String(contentsOfFile: setup.file, encoding: .utf8) == "[project]\nname = \"mine\"\n")
    }

    @Test func withoutATerminalInitNeedsYes() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let result = try await setup.run(["init", "--name", "shop"])
        #expect(result.status == 2)
        #expect(result.errorOutput == "Error: adminctl init cannot guess the repository URL and the region, and there is no terminal to ask on: "
            + "add --yes to take the suggestions (repository.url left unset, aws.region eu-west-3), or give --repo, --name and --region.\n")
        #expect(!FileManager.default.fileExists(atPath: setup.file))
        // Everything given: nothing to ask, no --yes needed.
        let given = try await setup.run(["init", "--name", "shop", "--region", "eu-west-3", "--repo", "/srv/git/shop.git"])
        #expect(given.status == 0, "\(given.errorOutput)")
    }

    @Test func aBadNameIsRefusedWithTheRule() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let result = try await setup.run(["init", "--yes", "--name", "Shop_1"])
        #expect(result.status == 2)
        #expect(result.errorOutput.hasPrefix("Error: --name must be lowercase letters, digits and '-', starting with a letter and not ending "
            + "with '-' (S3 bucket and IAM names allow no more), not 'Shop_1'.\n"))
        let region = try await setup.run(["init", "--yes", "--name", "shop", "--region", "paris"])
        #expect(region.status == 2)
        #expect(region.errorOutput.hasPrefix("Error: --region does not look like an AWS region (such as eu-west-3 or us-east-1): 'paris'.\n"))
        #expect(!FileManager.default.fileExists(atPath: setup.file))
    }

    /// adminctl.toml is 0644 and repository.url goes into every developer stack's parameters: a
    /// token in `--repo` was written there in clear.
    @Test func aTokenInTheRepositoryURLIsRefusedNotWritten() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let result = try await setup.run(["init", "--yes", "--name", "shop", "--region", "eu-west-3",
                                          "--repo", "https://x-access-token:ghp_Inl1neT0ken@github.com/acme/nuvola.git"])
        #expect(result.status == 2)
        #expect(result.errorOutput.hasPrefix("Error: --repo holds credentials before its host (the URL without them: "
            + "'https://github.com/acme/nuvola.git'); "), "\(result.errorOutput)")
        #expect(!result.errorOutput.contains("ghp_Inl1neT0ken") && !result.output.contains("ghp_Inl1neT0ken"))
        #expect(!FileManager.default.fileExists(atPath: setup.file))
        // Put in the file by hand (or a variable), every command refuses it without showing it.
        let written = try await setup.run(["init", "--yes", "--name", "shop", "--region", "eu-west-3"])
        #expect(written.status == 0, "\(written.errorOutput)")
        let shown = try await setup.run(["config", "show"], environment: ["ADMINCTL_REPOSITORY_URL": "https://ghp_Inl1neT0ken@github.com/acme/nuvola.git"])
        #expect(shown.status == 1)
        #expect(shown.errorOutput.contains("repository.url from env ADMINCTL_REPOSITORY_URL holds credentials"), "\(shown.errorOutput)")
        #expect(!shown.errorOutput.contains("ghp_Inl1neT0ken") && !shown.output.contains("ghp_Inl1neT0ken"))
    }

    @Test func configShowFindsTheFileUpwardsAndNamesEachOrigin() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        #expect(try await setup.run(["init", "--yes", "--name", "shop", "--region", "eu-west-3"]).status == 0)
        let result = try await setup.run(["config", "show", "--json"], in: "/app/src", environment: ["ADMINCTL_PROD_MAX_SIZE": "9"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let settings = try setup.settings(result)
        #expect(settings["project.name"]?["value"] == "shop" && settings["project.name"]?["origin"] == setup.file)
        #expect(settings["prod.max_size"]?["value"] == "9" && settings["prod.max_size"]?["origin"] == "env ADMINCTL_PROD_MAX_SIZE")
        #expect(settings["prod.max_size"]?["environment"] == "ADMINCTL_PROD_MAX_SIZE")
        #expect(settings["network.certificate_arn"]?["origin"] == "default" && settings["network.certificate_arn"]?["value"] == nil)

        let table = try await setup.run(["config", "show"], in: "/app", environment: ["ADMINCTL_PROD_MAX_SIZE": "9"])
        #expect(table.status == 0)
        let lines = table.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first == ["setting", "value", "from"])
        #expect(lines.contains(["prod.max_size", "9", "env", "ADMINCTL_PROD_MAX_SIZE"]))
        #expect(lines.contains(["project.name", "shop", setup.file]))
    }

    @Test func aMalformedFileIsNamedWithItsLine() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try "[project]\nname = \"shop\"\n[prod]\nmin_size = \"two\"\n".write(toFile: setup.file, atomically: true, encoding: .utf8)
        let value = try await setup.run(["config", "show"], in: "/app")
        #expect(value.status == 1)
        #expect(value.errorOutput.contains("\(setup.file), line 4: prod.min_size must be a whole number, not 'two'."))

        try "[project]\nname = \"shop\"\n[prod\n".write(toFile: setup.file, atomically: true, encoding: .utf8)
        let syntax = try await setup.run(["config", "show", "--json"])
        #expect(syntax.status == 1)
        #expect(syntax.errorOutput.contains("\(setup.file) is not valid TOML (line 3:"))
        #expect(syntax.output.contains("\"error\""))
    }
}
