import Foundation
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
        try box.write("repository = \"x\"\n", to: box.root.file("etc/devbox/config.toml"))

        let result = try await CLI.run("devbox", ["doctor", "--json"], environment: box.environment)
        #expect(result.status == 1)
        let report = try DoctorReport.parse(result.output)
        #expect(report.checks.map(\.name) == ["git identity", "container engine", "compose", "config", "disk space"])
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
        let result = try await CLI.run("devbox", ["doctor"], environment: environment)
        #expect(result.status == 1)
        #expect(result.output.contains("✘ container engine  docker is installed but its engine at unix://\(box.root.file("missing.sock")) does not answer: no socket at"))
        #expect(result.output.contains("fix: start it (sudo systemctl start docker) or set DOCKER_HOST to a running engine"))
        #expect(result.output.hasSuffix("checks failed.\n"))
    }
}

@Suite struct AdminctlDoctorCLITests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test func everythingConfiguredPassesAndNeverShowsTheSecret() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        let server = await TestServer.shared()
        let environment = box.environment.merging([
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": Self.secret,
            "AWS_REGION": "eu-west-3", "AWS_ENDPOINT_URL": server.url(""),
        ]) { _, new in new }
        let result = try await CLI.run("adminctl", ["doctor", "--json"], environment: environment)
        #expect(result.status == 0)
        let report = try DoctorReport.parse(result.output)
        #expect(report.ok)
        #expect(report["credentials"]?.detail == "access key AKIA…MPLE from the environment")
        #expect(report["region"]?.detail == "eu-west-3 (from environment variable AWS_REGION)")
        #expect(report["endpoint"]?.detail == "\(server.url("")) (from environment variable AWS_ENDPOINT_URL)")
        #expect(report["sts"]?.status == "ok")
        #expect(!result.output.contains(Self.secret) && !result.errorOutput.contains(Self.secret))
        #expect(!result.output.contains("AKIAIOSFODNN7EXAMPLE"))
    }

    @Test func profileFilesSupplyCredentialsAndRegion() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        try box.write("[dev]\naws_access_key_id = AKIADEVPROFILE0001\naws_secret_access_key = \(Self.secret)\n",
                      to: box.home + "/.aws/credentials")
        try box.write("[profile dev]\nregion = eu-west-3\n", to: box.home + "/.aws/config")
        let server = await TestServer.shared()
        let environment = box.environment.merging([
            "AWS_PROFILE": "dev", "AWS_ENDPOINT_URL_STS": server.url(""),
        ]) { _, new in new }
        let result = try await CLI.run("adminctl", ["doctor"], environment: environment)
        #expect(result.status == 0)
        #expect(result.output.contains("✔ credentials  access key AKIA…0001 from profile dev"))
        #expect(result.output.contains("✔ region       eu-west-3 (from profile dev)"))
        #expect(result.output.contains("(from environment variable AWS_ENDPOINT_URL_STS)"))
        #expect(result.output.hasSuffix("All 4 checks passed.\n"))
        #expect(!result.output.contains(Self.secret))
    }

    @Test func unreachableEndpointFailsWithAFix() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        let environment = box.environment.merging([
            "AWS_REGION": "eu-west-3", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        ]) { _, new in new }
        let result = try await CLI.run("adminctl", ["doctor", "--json"], environment: environment)
        #expect(result.status == 1)
        let report = try DoctorReport.parse(result.output)
        #expect(report["credentials"]?.status == "warning")
        #expect(report["sts"]?.status == "failed")
        #expect(report["sts"]?.detail.hasPrefix("STS endpoint http://127.0.0.1:9 is unreachable: could not connect") == true)
        #expect(report["sts"]?.fix == "start the endpoint (for the simulated cloud: Tests/Fleet/fleet up) or fix environment variable AWS_ENDPOINT_URL")
    }

    @Test func missingProfileAndRegionAreFailuresAndNothingIsSent() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        let result = try await CLI.run("adminctl", ["doctor", "--json"],
                                       environment: box.environment.merging(["AWS_PROFILE": "nope"]) { _, new in new })
        #expect(result.status == 1)
        let report = try DoctorReport.parse(result.output)
        #expect(report["credentials"]?.status == "failed")
        #expect(report["credentials"]?.fix == "check AWS_PROFILE, or create it with `aws configure --profile nope`")
        #expect(report["region"]?.status == "failed")
        #expect(report["sts"]?.detail == "not contacted: no region and no AWS_ENDPOINT_URL")
        #expect(report["endpoint"] == nil)
    }

    @Test func regionFlagWins() async throws {
        let box = try Sandbox()
        defer { box.root.remove() }
        let server = await TestServer.shared()
        let environment = box.environment.merging([
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": server.url(""),
        ]) { _, new in new }
        let result = try await CLI.run("adminctl", ["doctor", "--region", "eu-west-3", "--json"], environment: environment)
        let report = try DoctorReport.parse(result.output)
        #expect(report["region"]?.detail == "eu-west-3 (from command-line flag)")
    }
}
