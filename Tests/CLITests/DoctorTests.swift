import Foundation
import Host
import Testing
import TestSupport

struct DoctorReport: Decodable {
    struct Check: Decodable {
        var name: String
        var status: String
        var detail: String
        var fix: String?
    }
    var checks: [Check]
    var ok: Bool

    subscript(name: String) -> Check? { checks.first { $0.name == name } }

    static func parse(_ text: String) throws -> DoctorReport {
        try JSONDecoder().decode(DoctorReport.self, from: Data(text.utf8))
    }
}

/// A scratch HOME, a PATH directory for stand-in programs, and a system config location.
struct Sandbox {
    let root: TemporaryDirectory
    var home: String { root.file("home") }
    var bin: String { root.file("bin") }

    init() throws {
        root = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: root.file("home"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.file("bin"), withIntermediateDirectories: true)
    }

    func write(_ text: String, to path: String, executable: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
    }

    var environment: [String: String] {
        ["HOME": home, "PATH": bin, "DEVBOX_SYSTEM_CONFIG": root.file("etc/devbox/config.toml")]
    }
}

@Suite struct DevboxDoctorCLITests {
    @Test func machineWithoutEngineFailsWithFixes() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        try box.write("[user]\n\tname = Ada Dev\n\temail = ada@example.com\n", to: box.home + "/.gitconfig")
        try box.write("[repository]\nurl = \"https://git.example.com/acme/nuvola.git\"\n", to: box.root.file("etc/devbox/config.toml"))
        var environment = box.environment
        // The clock is compared with the S3 endpoint's Date: here the local test server's.
        environment["AWS_ENDPOINT_URL"] = await TestServer.shared().url("")
        environment["DEVBOX_COMPOSE_HTTP_PORT"] = String(freePort())
        environment["DEVBOX_COMPOSE_DB_PORT"] = String(freePort())

        let result = try await CLI.run("devbox", ["doctor", "--json"], environment: environment)
        #expect(result.status == 1)
        let report = try DoctorReport.parse(result.output)
        #expect(report.checks.map(\.name) == ["git identity", "container engine", "compose", "config", "workspace", "ports", "disk space", "clock"])
        #expect(report["ports"]?.status == "ok")
        #expect(report["clock"]?.status == "ok")
        // The server's Date has whole seconds, and a loaded machine delays its answer: in step or
        // a second or two off, but never a failure against the local server.
        let clock = report["clock"]?.detail ?? ""
        #expect(clock.hasPrefix("this machine's clock is ") && clock.hasSuffix(environment["AWS_ENDPOINT_URL"]!), "\(clock)")
        #expect(!report.ok)
        #expect(report["git identity"]?.status == "ok")
        #expect(report["git identity"]?.detail == "Ada Dev <ada@example.com>")
        #expect(report["container engine"]?.status == "failed")
        #expect(report["container engine"]?.fix == "sudo apt-get install docker.io docker-compose")
        #expect(report["config"]?.status == "ok")
        #expect(report["config"]?.detail == box.root.file("etc/devbox/config.toml"))
        #expect(report["disk space"]?.status != "failed")
    }

    @Test func engineAndComposeFoundAndAnswering() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        // Stand-ins for the engine's CLI and its API socket: what doctor inspects, not doctor itself.
        try box.write("""
            #!/bin/sh
            [ "$1 $2" = "compose version" ] && { echo "Docker Compose version v2.26.1"; exit 0; }
            exit 1
            """, to: box.bin + "/docker", executable: true)
        var environment = box.environment
        let server = await TestServer.shared()
        environment["DOCKER_HOST"] = "unix://" + server.info.unix
        environment["AWS_ENDPOINT_URL"] = server.url("")
        environment["PATH"] = box.bin + ":/usr/bin:/bin"

        let result = try await CLI.run("devbox", ["doctor", "--json"], environment: environment)
        let report = try DoctorReport.parse(result.output)
        #expect(report["container engine"]?.status == "ok")
        #expect(report["container engine"]?.detail == "docker engine answers at unix://\(server.info.unix)")
        #expect(report["compose"]?.status == "ok")
        #expect(report["compose"]?.detail == "docker compose: Docker Compose version v2.26.1")
        // No gitconfig and no config file in the sandbox: warnings with fixes, not failures.
        #expect(report["git identity"]?.status == "warning")
        #expect(report["git identity"]?.fix == "git config --global user.name \"...\" && git config --global user.email \"...\"")
        #expect(report["config"]?.status == "warning")
        #expect(result.status == 0)
        #expect(report.ok)
    }

    @Test func deadEngineSocketIsExplained() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        try box.write("#!/bin/sh\nexit 1\n", to: box.bin + "/docker", executable: true)
        var environment = box.environment
        environment["DOCKER_HOST"] = "unix://" + box.root.file("missing.sock")
        environment["AWS_ENDPOINT_URL"] = await TestServer.shared().url("")
        let result = try await CLI.run("devbox", ["doctor"], environment: environment)
        #expect(result.status == 1)
        #expect(result.output.contains("✘ container engine  docker is installed but its engine at unix://\(box.root.file("missing.sock")) does not answer: no socket at"))
        #expect(result.output.contains("fix: start it (sudo systemctl start docker) or set DOCKER_HOST to a running engine"))
        #expect(result.output.hasSuffix("checks failed.\n"))
    }
}

struct AdminDoctorReport: Decodable {
    var checks: [DoctorReport.Check]
    var ok: Bool
    var arn: String?
    var account: String?
    subscript(name: String) -> DoctorReport.Check? { checks.first { $0.name == name } }
}

@Suite struct AdminctlDoctorCLITests {
    /// A sandbox HOME, no instance metadata (nothing may leave loopback), and the fleet's settings.
    func environment(_ box: Sandbox, _ fleet: Fleet?, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = box.environment
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        if let fleet {
            for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                environment[key] = fleet.environment[key]
            }
        }
        return environment.merging(extra) { _, new in new }
    }

    func doctor(_ environment: [String: String], _ arguments: [String] = ["--json"]) async throws -> (ProcessResult, AdminDoctorReport?) {
        // A generous probe limit: the shared simulator answers slowly while the whole suite runs on two cores.
        let result = try await CLI.run("adminctl", ["doctor", "--timeout", "60"] + arguments, environment: environment)
        return (result, try? JSONDecoder().decode(AdminDoctorReport.self, from: Data(result.output.utf8)))
    }

    @Test func healthySetupShowsTheIdentityAndNeverTheSecret() async throws {
        let fleet = try await Fleet.shared()
        let box = try Sandbox()
        defer { box.root.remove() }
        let (result, parsed) = try await doctor(environment(box, fleet))
        let report = try #require(parsed)
        #expect(result.status == 0)
        #expect(report.ok)
        #expect(report.arn == "arn:aws:iam::123456789012:user/fleet-admin")
        #expect(report.account == "123456789012")
        #expect(report.checks.map(\.name) == ["credentials", "region", "endpoint", "clock", "identity"])
        #expect(report["credentials"]?.detail.hasSuffix("from environment variable AWS_ACCESS_KEY_ID") == true)
        #expect(report["clock"]?.status == "ok")
        let secret = fleet.environment["AWS_SECRET_ACCESS_KEY"]!
        #expect(!result.output.contains(secret) && !result.errorOutput.contains(secret))

        let (text, _) = try await doctor(environment(box, fleet), [])
        #expect(text.output.contains("✔ identity     arn:aws:iam::123456789012:user/fleet-admin (account 123456789012)"))
        #expect(text.output.hasSuffix("All 5 checks passed.\n"))
    }

    @Test func wrongSecretAndUnknownKeyAreExplained() async throws {
        let fleet = try await Fleet.shared()
        let box = try Sandbox()
        defer { box.root.remove() }
        let (bad, badReport) = try await doctor(environment(box, fleet, ["AWS_SECRET_ACCESS_KEY": "not-it"]))
        #expect(bad.status == 1)
        let identity = try #require(badReport?["identity"])
        #expect(identity.status == "failed")
        #expect(identity.detail.hasPrefix("STS rejected the signature: the secret key is wrong. SignatureDoesNotMatch (HTTP 403): "))
        #expect(identity.fix?.contains("Check AWS_SECRET_ACCESS_KEY") == true)
        #expect(!bad.output.contains("not-it"))

        let (_, unknown) = try await doctor(environment(box, fleet, ["AWS_ACCESS_KEY_ID": "AKIANOBODYKNOWS00000"]))
        #expect(unknown?["identity"]?.detail.hasPrefix("STS does not know this access key. InvalidClientTokenId") == true)
    }

    @Test func expiredTokenAndClockSkewAreExplained() async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        let box = try Sandbox()
        defer { box.root.remove() }
        // Twice: the client fetches fresh credentials once after ExpiredToken and tries again.
        try await fleet.inject(kind: "aws-error", service: "sts", operation: "GetCallerIdentity", count: 2,
                               code: "ExpiredToken", status: 403, message: "The security token included in the request is expired")
        let (expired, expiredReport) = try await doctor(environment(box, fleet))
        #expect(expired.status == 1)
        let expiredDetail = expiredReport?["identity"]?.detail ?? ""
        #expect(expiredDetail.hasPrefix("The session token has expired. ExpiredToken (HTTP 403): The security token included in the request is expired"))
        #expect(expiredReport?["identity"]?.fix?.contains("Get fresh ones") == true)

        try await fleet.setClock(offset: 1800)
        let (skewed, skewReport) = try await doctor(environment(box, fleet))
        #expect(skewed.status == 1)
        #expect(skewReport?["clock"]?.status == "failed")
        let clockDetail = skewReport?["clock"]?.detail ?? ""
        #expect(clockDetail.hasPrefix("this machine's clock is 30m0") || clockDetail.hasPrefix("this machine's clock is 29m5"))
        #expect(clockDetail.hasSuffix("behind the endpoint"))
        #expect(skewReport?["identity"]?.detail.hasPrefix("STS says this machine's clock is wrong. RequestTimeTooSkewed (HTTP 403)") == true)
        #expect(skewReport?["identity"]?.fix?.contains("timedatectl set-ntp true") == true)
    }

    @Test func unreachableEndpointFailsWithAFix() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        let (result, report) = try await doctor(environment(box, nil, [
            "AWS_REGION": "eu-west-3", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
        ]))
        #expect(result.status == 1)
        let identity = try #require(report?["identity"])
        #expect(identity.detail == "The STS endpoint http://127.0.0.1:9 cannot be reached: could not connect (curl: Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server)."
                || identity.detail.hasPrefix("The STS endpoint http://127.0.0.1:9 cannot be reached: could not connect"))
        #expect(identity.fix == "start the endpoint (for the simulated cloud: Tests/Fleet/fleet up) or fix environment variable AWS_ENDPOINT_URL")
    }

    @Test func profileFilesSupplyCredentialsAndRegion() async throws {
        let fleet = try await Fleet.shared()
        let box = try Sandbox()
        defer { box.root.remove() }
        try box.write("[dev]\naws_access_key_id = \(fleet.environment["AWS_ACCESS_KEY_ID"]!)\naws_secret_access_key = \(fleet.environment["AWS_SECRET_ACCESS_KEY"]!)\n",
                      to: box.home + "/.aws/credentials")
        try box.write("[profile dev]\nregion = eu-west-3\n", to: box.home + "/.aws/config")
        let (result, report) = try await doctor(environment(box, nil, ["AWS_PROFILE": "dev", "AWS_ENDPOINT_URL_STS": fleet.endpoint]))
        #expect(result.status == 0)
        #expect(report?["credentials"]?.detail.hasSuffix("from profile dev") == true)
        #expect(report?["region"]?.detail == "eu-west-3 (from profile dev)")
        #expect(report?["endpoint"]?.detail == "\(fleet.endpoint) (from environment variable AWS_ENDPOINT_URL_STS)")
    }

    @Test func missingProfileOrRegionStopsBeforeAnythingIsSent() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        let (noRegion, regionReport) = try await doctor(environment(box, nil))
        #expect(noRegion.status == 1)
        #expect(regionReport?.checks.map(\.name) == ["region"])
        #expect(regionReport?["region"]?.detail.hasPrefix("No AWS region configured") == true)

        let (missing, profileReport) = try await doctor(environment(box, nil, ["AWS_PROFILE": "nope", "AWS_REGION": "eu-west-3"]))
        #expect(missing.status == 1)
        #expect(profileReport?["credentials"]?.status == "failed")
        #expect(profileReport?["credentials"]?.detail.hasPrefix("Profile nope (from AWS_PROFILE) is not in") == true)
        #expect(profileReport?.arn == nil)
    }

    @Test func regionFlagWins() async throws {
        let fleet = try await Fleet.shared()
        let box = try Sandbox()
        defer { box.root.remove() }
        let (_, report) = try await doctor(environment(box, fleet, ["AWS_REGION": "us-east-1"]), ["--region", "eu-west-3", "--json"])
        #expect(report?["region"]?.detail == "eu-west-3 (from command-line flag)")
    }
}
