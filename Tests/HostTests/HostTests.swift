import Foundation
import Host
import Testing
import TestSupport

@Suite struct ChildProcessTests {
    @Test func capturesOutputAndStatus() async throws {
        let result = try await ChildProcess.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.output == "out\n")
        #expect(result.errorOutput == "err\n")
    }

    @Test func secretsTravelThroughEnvironmentAndStdinNotArgv() async throws {
        let result = try await ChildProcess.run("sh", ["-c", "printf %s \"$TOKEN\"; cat"],
                                                environment: ["TOKEN": "s3cr3t", "PATH": "/usr/bin:/bin"],
                                                input: Array(" and more".utf8))
        #expect(result.output == "s3cr3t and more")
    }

    @Test func largeOutputOnBothPipesDoesNotDeadlock() async throws {
        let result = try await ChildProcess.run("sh", ["-c", "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2"])
        #expect(result.standardOutput.count == 3_000_000)
        #expect(result.standardError.count == 3_000_000)
    }

    @Test func timeoutKillsTheChild() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: ChildProcessError.self) {
            try await ChildProcess.run("sleep", ["300"], timeout: .milliseconds(300))
        }
        // 0.3 s, plus room for a loaded machine (spawns queue behind each other there): far below the child's 300 s.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(error?.description.contains("time limit") == true)
    }

    @Test func missingProgramIsAClearError() async throws {
        let error = await #expect(throws: ChildProcessError.self) {
            try await ChildProcess.run("no-such-program-anywhere")
        }
        #expect(error?.description == "no-such-program-anywhere: not found in PATH")
    }
}

@Suite struct SecretFileTests {
    @Test func secretFilesAreMode0600AndReplacedAtomically() throws {
        let scratch = try TemporaryDirectory("secret")
        defer { scratch.remove() }
        let directory = scratch.path
        let path = directory + "/nested/credentials"
        try SecretFile.write("first", to: path)
        #expect(SecretFile.mode(of: path) == 0o600)
        #expect(SecretFile.mode(of: directory + "/nested") == 0o700)
        try SecretFile.write("second", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
        #expect(SecretFile.mode(of: path) == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory + "/nested")
        #expect(leftovers == ["credentials"])
    }

    @Test func unwritableLocationSaysWhat() {
        #expect(throws: (any Error).self) { try SecretFile.write("x", to: "/proc/nope/secret") }
    }
}

@Suite struct DiskSpaceTests {
    @Test func reportsSpaceForMissingPathsThroughTheirParent() throws {
        let existing = try #require(DiskSpace.available(at: NSTemporaryDirectory()))
        let missing = try #require(DiskSpace.available(at: NSTemporaryDirectory() + "does/not/exist/yet"))
        #expect(existing > 0)
        // Same filesystem, measured moments apart.
        #expect(abs(existing - missing) < 1 << 30)
    }
}
