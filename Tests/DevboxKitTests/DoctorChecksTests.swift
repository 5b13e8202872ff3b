import DevboxKit
import Foundation
import HTTP
import Testing
import Terminal
import TestSupport

@Suite struct DoctorChecksTests {
    func doctor(_ directory: TemporaryDirectory, _ extra: [String: String]) async -> DevboxDoctor {
        var environment = ["HOME": directory.path, "DEVBOX_SYSTEM_CONFIG": directory.file("none.toml"),
                           "PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": await TestServer.shared().url(""),
                           "DOCKER_HOST": "unix://" + directory.file("no-engine.sock")]
        environment.merge(extra) { _, new in new }
        return DevboxDoctor(environment: environment, http: HTTPClient())
    }

    @Test func aPortHeldByAnotherProgramFails() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let held = freePort()
        let listener = LoopbackListener(port: held)
        defer { listener.close() }
        let report = await doctor(directory, ["DEVBOX_COMPOSE_DB_PORT": String(held), "DEVBOX_COMPOSE_HTTP_PORT": String(freePort())]).run()
        let ports = try #require(report.checks.first { $0.name == "ports" })
        #expect(ports.status == .failed)
        #expect(ports.detail == "port \(held) on 127.0.0.1 is in use by another program; `devbox up` could not publish it")
        #expect(ports.fix == "stop it (ss -ltnp 'sport = :\(held)') or set compose.db_port in ~/.config/devbox/config.toml")
    }

    @Test func aClockAnHourOffFailsAndFiveMinutesWarns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var fast = await doctor(directory, [:])
        fast.now = { Date().timeIntervalSince1970 + 3600 }
        let failed = try #require(await fast.run().checks.first { $0.name == "clock" })
        #expect(failed.status == .failed)
        #expect(failed.detail.hasPrefix("this machine's clock is 1h00m") || failed.detail.hasPrefix("this machine's clock is 59m"))
        #expect(failed.detail.hasSuffix("ahead of \(await TestServer.shared().url(""))"))

        let slow = Check.clock(skew: 400, against: "S3")
        #expect(slow.status == .warning && slow.detail.hasSuffix("behind S3"))
        #expect(Check.clock(skew: 0.3, against: "S3").detail == "this machine's clock is in step with S3")
        // Whole-second Date headers: 1.0 s is rounding, 2.5 s is a skew.
        #expect(Check.clock(skew: -1.0, against: "S3").detail == "this machine's clock is in step with S3")
        #expect(Check.clock(skew: -2.5, against: "S3").detail.hasSuffix("ahead of S3"))
    }

    @Test func aBrokenConfigIsAFailedCheckAndTheRestStillRuns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try "[compose\n".write(toFile: directory.file("etc.toml"), atomically: true, encoding: .utf8)
        let report = await doctor(directory, ["DEVBOX_SYSTEM_CONFIG": directory.file("etc.toml")]).run()
        let config = try #require(report.checks.first { $0.name == "config" })
        #expect(config.status == .failed && config.detail.hasPrefix("\(directory.file("etc.toml")) is not valid TOML"))
        #expect(report.checks.contains { $0.name == "ports" } && report.checks.contains { $0.name == "clock" })
    }
}
