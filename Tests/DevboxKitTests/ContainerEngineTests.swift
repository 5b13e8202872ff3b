import DevboxKit
import Foundation
import Testing
import TestSupport

@Suite struct ContainerEngineTests {
    func sandboxWith(_ programs: [String], script: (String) -> String = { _ in "exit 0" }) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for program in programs {
            try "#!/bin/sh\n\(script(program))\n".write(toFile: dir.file(program), atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.file(program))
        }
        return dir
    }

    @Test func dockerIsPreferredAndDockerHostIsHonoured() throws {
        let dir = try sandboxWith(["docker", "podman"])
        defer { dir.remove() }
        let plain = try #require(ContainerEngine.detect(environment: ["PATH": dir.path]))
        #expect(plain.kind == .docker)
        #expect(plain.address == "unix:///var/run/docker.sock")
        let custom = try #require(ContainerEngine.detect(environment: ["PATH": dir.path, "DOCKER_HOST": "unix:///tmp/d.sock"]))
        #expect(custom.socketPath == "/tmp/d.sock")
        let tcp = try #require(ContainerEngine.detect(environment: ["PATH": dir.path, "DOCKER_HOST": "tcp://127.0.0.1:2375"]))
        #expect(tcp.socketPath == nil)
        #expect(tcp.address == "http://127.0.0.1:2375")
    }

    @Test func podmanWhenNoDocker() throws {
        let dir = try sandboxWith(["podman"])
        defer { dir.remove() }
        let engine = try #require(ContainerEngine.detect(environment: ["PATH": dir.path, "XDG_RUNTIME_DIR": "/run/user/1000"]))
        #expect(engine.kind == .podman)
        #expect(engine.executable == dir.file("podman"))
        #expect(ContainerEngine.detect(environment: ["PATH": "/nonexistent"]) == nil)
    }

    @Test func composeFlavourCommands() {
        #expect(ComposeFlavour.dockerPlugin.command == ["docker", "compose"])
        #expect(ComposeFlavour.dockerCompose.command == ["docker-compose"])
        #expect(ComposeFlavour.podmanCompose.command == ["podman-compose"])
    }

    /// A compose that is there but does not answer is named with why, not reported missing (a CI
    /// run once said "no compose is installed" on a machine that had one).
    @Test func composeThatDoesNotAnswerIsNamedWithWhyAndNoneIsMissing() async throws {
        let dir = try sandboxWith(["docker", "docker-compose", "podman-compose"]) { program in
            switch program {
            case "docker": "echo \"docker: unknown command: docker $1\" >&2; exit 1"
            case "docker-compose": "echo 'ImportError: No module named compose' >&2; exit 3"
            default: "echo 'podman-compose version 1.0.6'"
            }
        }
        defer { dir.remove() }
        let (flavour, version) = try await ComposeFlavour.detect(environment: ["PATH": dir.path])
        #expect(flavour == .podmanCompose && version == "podman-compose version 1.0.6")

        try FileManager.default.removeItem(atPath: dir.file("podman-compose"))
        let broken = await #expect(throws: ComposeError.self) { _ = try await ComposeFlavour.detect(environment: ["PATH": dir.path]) }
        #expect(broken?.message.hasPrefix("compose is installed but did not answer (`docker-compose version` exited with 3: "
            + "ImportError: No module named compose).") == true, "\(broken?.message ?? "")")

        let none = await #expect(throws: ComposeError.self) { _ = try await ComposeFlavour.detect(environment: ["PATH": "/nonexistent"]) }
        #expect(none?.message.hasPrefix("no compose is installed") == true)
    }
}

@Suite struct DevboxPathsTests {
    @Test func defaultsFollowHomeAndXDG() {
        let plain = DevboxPaths(environment: ["HOME": "/home/ada"])
        #expect(plain.systemConfig == "/etc/devbox/config.toml")
        #expect(plain.userConfig == "/home/ada/.config/devbox/config.toml")
        #expect(plain.cache == "/home/ada/.cache/devbox")
        #expect(plain.defaultWorkspace == "/home/ada/nuvola")
        let xdg = DevboxPaths(environment: ["HOME": "/home/ada", "XDG_CONFIG_HOME": "/cfg", "XDG_CACHE_HOME": "/cache",
                                            "DEVBOX_SYSTEM_CONFIG": "/opt/devbox.toml"])
        #expect(xdg.userConfig == "/cfg/devbox/config.toml")
        #expect(xdg.cache == "/cache/devbox")
        #expect(xdg.systemConfig == "/opt/devbox.toml")
    }
}
