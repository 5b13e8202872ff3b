import Foundation
import HTTP
import Host

/// The container engine devbox drives: Docker, or Podman through its Docker-compatible API.
public struct ContainerEngine: Sendable, Equatable {
    public enum Kind: String, Sendable, Encodable { case docker, podman }

    public var kind: Kind
    /// The engine's CLI.
    public var executable: String
    /// The API endpoint: a Unix socket path, or an http:// URL for `DOCKER_HOST=tcp://...`.
    public var socketPath: String?
    public var url: String?

    /// The engine whose CLI is on PATH (docker first), with its API address from `DOCKER_HOST`
    /// or the engine's default socket. Nil when neither CLI is installed.
    public static func detect(environment: [String: String]) -> ContainerEngine? {
        if let docker = Executable.find("docker", environment: environment) {
            var engine = ContainerEngine(kind: .docker, executable: docker, socketPath: "/var/run/docker.sock")
            engine.apply(dockerHost: environment["DOCKER_HOST"])
            return engine
        }
        if let podman = Executable.find("podman", environment: environment) {
            let runtime = environment["XDG_RUNTIME_DIR"].map { "\($0)/podman/podman.sock" }
            let socket = (getuid() == 0 ? "/run/podman/podman.sock" : runtime) ?? "/run/podman/podman.sock"
            var engine = ContainerEngine(kind: .podman, executable: podman, socketPath: socket)
            engine.apply(dockerHost: environment["CONTAINER_HOST"] ?? environment["DOCKER_HOST"])
            return engine
        }
        return nil
    }

    mutating func apply(dockerHost: String?) {
        guard let host = dockerHost, !host.isEmpty else { return }
        if host.hasPrefix("unix://") {
            socketPath = String(host.dropFirst("unix://".count))
            url = nil
        } else if host.hasPrefix("tcp://") {
            socketPath = nil
            url = "http://" + host.dropFirst("tcp://".count)
        }
    }

    /// Where the API is, for messages: "unix:///var/run/docker.sock".
    public var address: String { socketPath.map { "unix://\($0)" } ?? url ?? "unknown" }

    /// Asks the engine's `/_ping`; returns nil when it answered OK, else why not.
    public func ping(http: HTTPClient) async -> String? {
        if let socketPath, !FileManager.default.fileExists(atPath: socketPath) {
            return "no socket at \(socketPath)"
        }
        let base = url ?? "http://localhost"
        let request = HTTPRequest(url: base + "/_ping", timeouts: HTTPTimeouts(connect: .seconds(3), total: .seconds(5)),
                                  unixSocketPath: socketPath)
        do {
            let response = try await http.send(request)
            return response.status == 200 ? nil : "the engine answered HTTP \(response.status) to /_ping"
        } catch let error as HTTPError {
            return error.summary
        } catch {
            return "\(error)"
        }
    }
}

/// Which compose implementation is installed; devbox speaks to whichever is present.
public enum ComposeFlavour: String, Sendable, Encodable, CaseIterable {
    /// `docker compose` (the v2 CLI plugin).
    case dockerPlugin = "docker compose"
    /// `docker-compose`, Debian's standalone package (v1 or v2).
    case dockerCompose = "docker-compose"
    case podmanCompose = "podman-compose"

    /// The command line prefix that runs this flavour.
    public var command: [String] {
        switch self {
        case .dockerPlugin: ["docker", "compose"]
        case .dockerCompose: ["docker-compose"]
        case .podmanCompose: ["podman-compose"]
        }
    }

    /// The first flavour that answers `version`, with the version it printed. Throws a
    /// `ComposeError` that names every compose found that did not answer, and why (a timeout, its
    /// exit status and last line), or says none is installed.
    public static func detect(environment: [String: String]) async throws(ComposeError) -> (ComposeFlavour, String) {
        var unanswered: [String] = []
        for flavour in allCases {
            guard Executable.find(flavour.command[0], environment: environment) != nil else { continue }
            let arguments = Array(flavour.command.dropFirst()) + ["version"]
            let line = flavour.command.joined(separator: " ") + " version"
            do {
                // Generous: a Python compose starting on a machine busy with disk work can take many seconds.
                let result = try await ChildProcess.run(flavour.command[0], arguments, environment: environment,
                                                        timeout: .seconds(60))
                if result.succeeded {
                    return (flavour, result.output.split(separator: "\n").first.map(String.init) ?? "")
                }
                // `docker compose` without the plugin is docker saying it has no such command: not installed.
                guard flavour != .dockerPlugin else { continue }
                let said = result.errorOutput.split(separator: "\n").last.map(String.init) ?? ""
                unanswered.append("`\(line)` exited with \(result.status)" + (said.isEmpty ? "" : ": \(said)"))
            } catch {
                unanswered.append("`\(line)`: \((error as? ChildProcessError)?.reason ?? "\(error)")")
            }
        }
        guard unanswered.isEmpty else {
            throw ComposeError("compose is installed but did not answer (\(unanswered.joined(separator: "; "))). "
                + "Run the command yourself to see why; reinstall it if it fails (sudo apt-get install --reinstall docker-compose).")
        }
        throw ComposeError("no compose is installed (docker compose, docker-compose or podman-compose). Install one (sudo apt-get install docker-compose).")
    }
}
