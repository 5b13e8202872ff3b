import AdminKit
import Foundation
import Nuvola
import Terminal
import Testing
import TestSupport

@Suite struct AdminConfigTests {
    /// A project directory with `adminctl.toml` (when given) and a HOME of its own.
    struct Setup {
        let directory: TemporaryDirectory
        var project: String { directory.file("project") }
        var home: String { directory.file("home") }
        var file: String { project + "/adminctl.toml" }

        init(_ text: String?, userText: String? = nil) throws {
            directory = try TemporaryDirectory()
            try FileManager.default.createDirectory(atPath: directory.file("project/app/src"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: directory.file("home/.config/adminctl"), withIntermediateDirectories: true)
            if let text { try text.write(toFile: directory.file("project/adminctl.toml"), atomically: true, encoding: .utf8) }
            if let userText { try userText.write(toFile: directory.file("home/.config/adminctl/adminctl.toml"), atomically: true, encoding: .utf8) }
        }

        func load(from subdirectory: String = "", _ environment: [String: String] = [:],
                  flags: [String: (flag: String, value: String)] = [:]) throws(ConfigError) -> AdminConfig {
            try AdminConfig.load(directory: project + subdirectory, environment: ["HOME": home].merging(environment) { $1 }, flags: flags)
        }

        func failure(_ environment: [String: String] = [:]) throws -> String? {
            #expect(throws: ConfigError.self) { try load(environment) }?.message
        }
    }

    @Test func theNearestFileUpwardsWinsOverTheUsersAndEachValueKnowsItsOrigin() throws {
        let setup = try Setup("[project]\nname = \"shop\"\n[prod]\nmin_size = 3\n", userText: "[project]\nname = \"mine\"\n")
        defer { setup.directory.remove() }
        let config = try setup.load(from: "/app/src", ["ADMINCTL_AWS_REGION": "eu-west-3"], flags: ["dev.instance_type": ("--dev-type", "t3.nano")])
        #expect(config.file == setup.file)
        #expect(config.projectName == "shop")
        #expect(config.layers.origin(of: "project.name") == .file(setup.file))
        #expect(config.layers.origin(of: "aws.region") == .environment("ADMINCTL_AWS_REGION"))
        #expect(config.layers.origin(of: "dev.instance_type") == .flag("--dev-type"))
        #expect(config.layers.origin(of: "prod.max_size") == .builtIn)
        #expect(config.value("repository.integration_branch") == "new_features")
        #expect(config.value("repository.production_branch") == "main")
        let row = try #require(config.report.settings.first { $0.key == "prod.min_size" })
        #expect(row.value == "3" && row.origin == setup.file && row.environment == "ADMINCTL_PROD_MIN_SIZE")
        #expect(config.report.files == [setup.file])
    }

    @Test func withoutAProjectFileTheUsersIsRead() throws {
        let setup = try Setup(nil, userText: "[project]\nname = \"mine\"\n")
        defer { setup.directory.remove() }
        let config = try setup.load()
        #expect(config.projectName == "mine")
        #expect(config.file == setup.home + "/.config/adminctl/adminctl.toml")
    }

    @Test func badValuesNameTheFileAndLineOrTheVariable() throws {
        let setup = try Setup("[project]\nname = \"shop\"\n\n[prod]\nmin_size = 1\n")
        defer { setup.directory.remove() }
        #expect(try setup.failure() == "\(setup.file), line 5: prod.min_size must be between 2 and 100, not 1.")

        let region = try Setup(nil)
        defer { region.directory.remove() }
        #expect(try region.failure(["ADMINCTL_AWS_REGION": "paris"])
            == "aws.region from env ADMINCTL_AWS_REGION does not look like an AWS region (such as eu-west-3 or us-east-1): 'paris'.")

        let malformed = try Setup("[project\nname = \"x\"")
        defer { malformed.directory.remove() }
        #expect(try malformed.failure()?.hasPrefix("\(malformed.file) is not valid TOML (line 1:") == true)

        let notUTF8 = try Setup(nil)
        defer { notUTF8.directory.remove() }
        try Data([0x5B, 0x70, 0x5D, 0x0A, 0x6E, 0x3D, 0x22, 0xFF, 0x22]).write(to: URL(fileURLWithPath: notUTF8.file))
        #expect(try notUTF8.failure()?.hasPrefix("\(notUTF8.file) is not UTF-8 text: on line 2,") == true)

        let wrongShape = try Setup("[network]\nadmin_cidrs = 5\n")
        defer { wrongShape.directory.remove() }
        #expect(try wrongShape.failure() == "\(wrongShape.file), line 2: network.admin_cidrs should be a list of quoted strings ([\"a\", \"b\"]), not 5.")
    }

    @Test func unknownKeysAreWarnings() throws {
        let setup = try Setup("[prod]\nmin_sise = 3\n")
        defer { setup.directory.remove() }
        #expect(try setup.load().warnings == ["\(setup.file): unknown setting prod.min_sise ignored (`adminctl config show` lists them)"])
    }

    @Test func sizesAreCheckedTogether() throws {
        let setup = try Setup("[dev]\nmin_size = 3\n")
        defer { setup.directory.remove() }
        #expect(try setup.failure() == "dev.min_size from \(setup.file) and dev.max_size from default disagree: min_size 3 is above max_size 2. "
            + "Raise max_size or lower min_size.")
    }

    @Test(arguments: [
        ("project.name", "Shop", "must be lowercase letters, digits and '-'"),
        ("project.name", "a-very-long-project-name", "must be 3 to 20 characters"),
        ("project.name", "shop-", "not ending with '-'"),
        ("project.name", "1shop", "starting with a letter"),
        ("aws.region", "eu-west", "does not look like an AWS region"),
        ("buckets.artifacts", "Shop_Artifacts", "is not a valid bucket name: it may hold only lowercase letters"),
        ("buckets.dumps", "192.168.1.1", "may not look like an IP address"),
        ("buckets.dumps", "shop..dumps", "two adjacent periods"),
        ("buckets.artifacts", "xn--shop", "may not start with 'xn--'"),
        ("buckets.logs", "shop-logs-s3alias", "may not end with '-s3alias'"),
        ("prod.instance_type", "small", "is not an EC2 instance type"),
        ("dev.database_class", "t4g.micro", "is not an RDS instance class"),
        ("database.engine_version", "5.7", "must be MySQL 8.0"),
        ("database.storage_gib", "10", "must be between 20 and 999"),
        ("network.admin_cidrs", "10.0.0.1/8", "has host bits set ('10.0.0.1/8'); the block is 10.0.0.0/8"),
        ("network.admin_cidrs", "10.0.0.0/33", "is not an IPv4 CIDR block"),
        ("network.admin_cidrs", "198.51.100.7/32, 300.1.1.1/32", "is not an IPv4 CIDR block such as 198.51.100.7/32: '300.1.1.1/32'"),
        ("network.certificate_arn", "arn:aws:iam::123456789012:server-certificate/x", "is not an ACM certificate ARN"),
        ("dumps.retention_days", "0", "must be between 1 and 3650"),
        ("repository.integration_branch", "new..features", "is not a valid branch name"),
        ("repository.url", "https://x-access-token:ghp_s3cret@github.com/acme/nuvola.git",
         "holds credentials before its host (the URL without them: 'https://github.com/acme/nuvola.git')"),
        ("repository.url", "https://ghp_s3cret@github.com/acme/nuvola.git", "give the token in ADMINCTL_GIT_TOKEN or GH_TOKEN instead"),
        ("repository.url", "ssh://git:hunter2@git.example.com/nuvola.git", "holds credentials before its host"),
        ("deploy.shared_paths", "var/log/, ../../../etc/", "takes paths inside a release such as var/log/ or .env.local"),
        ("deploy.shared_paths", "/etc/", "(relative, no '.' or '..' parts, no '//'): '/etc/'"),
        ("deploy.shared_paths", "var//log", "(relative, no '.' or '..' parts, no '//'): 'var//log'"),
    ])
    func valuesFollowAWSAndTheTemplatesRules(key: String, value: String, problem: String) throws {
        let setup = try Setup(nil)
        defer { setup.directory.remove() }
        let variable = "ADMINCTL_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        let message = try setup.failure([variable: value])
        #expect(message?.hasPrefix("\(key) from env \(variable) ") == true, "\(message ?? "")")
        #expect(message?.contains(problem) == true, "\(message ?? "")")
        #expect(message?.contains("s3cret") == false && message?.contains("hunter2") == false, "\(message ?? "")")
    }

    /// URLs without a secret before the host are the usual ones and stay accepted.
    @Test(arguments: ["https://github.com/acme/nuvola.git", "ssh://git@github.com/acme/nuvola.git", "git@github.com:acme/nuvola.git",
                      "git://127.0.0.1:9418/nuvola.git", "/srv/git/nuvola.git"])
    func repositoryURLsWithoutCredentialsPass(url: String) throws {
        let setup = try Setup(nil)
        defer { setup.directory.remove() }
        #expect(try setup.load(["ADMINCTL_REPOSITORY_URL": url]).repositoryURL == url)
    }

    @Test(arguments: ["shop", "nuvola-app", "eu-west-3", "us-gov-west-1", "shop-x1z9qa-artifacts", "10.0.0.0/8", "8.0.39",
                      "arn:aws:acm:eu-west-3:123456789012:certificate/0b5c5e0a-1111-2222-3333-444455556666", "db.r6g.large"])
    func goodValuesPass(value: String) throws {
        let key = switch value {
        case "shop", "nuvola-app": "project.name"
        case "eu-west-3", "us-gov-west-1": "aws.region"
        case "10.0.0.0/8": "network.admin_cidrs"
        case "8.0.39": "database.engine_version"
        case "db.r6g.large": "prod.database_class"
        case _ where value.hasPrefix("arn:"): "network.certificate_arn"
        default: "buckets.artifacts"
        }
        let setup = try Setup(nil)
        defer { setup.directory.remove() }
        #expect(try setup.load(["ADMINCTL_" + key.uppercased().replacingOccurrences(of: ".", with: "_"): value]).value(key) == value)
    }

    @Test func adminRangesAreAListInTheFileAndCommasInAVariable() throws {
        let setup = try Setup("[project]\nname = \"shop\"\n[network]\nadmin_cidrs = [\"198.51.100.0/24\"]\n")
        defer { setup.directory.remove() }
        #expect(try setup.load().adminCIDRs == ["198.51.100.0/24"])
        let three = try setup.load(["ADMINCTL_NETWORK_ADMIN_CIDRS": "198.51.100.0/24,203.0.113.0/24,192.0.2.7/32"])
        #expect(three.adminCIDRs == ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.7/32"])
        let parameters = try three.stackParameters()
        #expect(parameters["AdminCidr"] == "198.51.100.0/24" && parameters["AdminCidr2"] == "203.0.113.0/24"
                && parameters["AdminCidr3"] == "192.0.2.7/32")
        // A shorter list sends the rest empty, so their rules go at the next infra up.
        let one = try setup.load().stackParameters()
        #expect(one["AdminCidr"] == "198.51.100.0/24" && one["AdminCidr2"] == "" && one["AdminCidr3"] == "")
        let message = try setup.failure(["ADMINCTL_NETWORK_ADMIN_CIDRS": "198.51.100.0/24,203.0.113.0/24,192.0.2.7/32,192.0.2.9/32"])
        #expect(message?.contains("lists 4 ranges, but the shared template takes up to 3") == true)
    }
}
