import AdminKit
import Foundation
import Nuvola
import Terminal
import Testing
import TestSupport

@Suite struct AdminInitTests {
    @Test(arguments: [("https://github.com/acme/Shop-App.git", "shop-app"), ("git@github.com:acme/nuvola.git", "nuvola"),
                      ("/srv/git/2024_Site", "site"), ("https://example.com/x", nil),
                      ("https://example.com/a/this-name-is-far-too-long-for-iam.git", "this-name-is-far-too")])
    func theProjectNameIsGuessedFromTheRepository(url: String, name: String?) {
        #expect(AdminInit.projectName(fromRepository: url) == name)
    }

    @Test func theWrittenFileReadsBackWithEveryValueFromIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let initializer = AdminInit(directory: directory.path, environment: ["HOME": directory.path, "AWS_REGION": "eu-west-1"],
                                    name: nil, region: nil, repositoryURL: "https://github.com/acme/Shop.git")
        let console = Console(out: CapturedOutput(), err: CapturedOutput(), format: .text, environment: [:])
        let report = try await initializer.run(yes: false, console: console, isInteractive: false)
        #expect(report.settings["project.name"] == "shop" && report.settings["aws.region"] == "eu-west-1")
        #expect(report.settings["buckets.artifacts"]?.hasPrefix("shop-") == true && report.settings["buckets.artifacts"]?.hasSuffix("-artifacts") == true)
        #expect(report.unset == ["network.admin_cidrs", "network.certificate_arn"])
        let config = try AdminConfig.load(directory: directory.path, environment: ["HOME": directory.path])
        for (key, value) in report.settings {
            #expect(config.value(key) == value)
            #expect(config.layers.origin(of: key) == .file(directory.file("adminctl.toml")))
        }
        #expect(config.warnings.isEmpty)
        #expect(try String(contentsOfFile: directory.file("adminctl.toml"), encoding: .utf8).contains("# days a production dump is kept\nretention_days = 30\n"))
    }
}
