import Foundation
import HTTP
import Host

/// Compose or the engine refused or failed: what, why, and what to do.
public struct ComposeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// One service's container as the engine sees it.
public struct ServiceState: Sendable, Encodable, Equatable {
    public var service: String
    public var container: String
    /// created, running, restarting, exited, ...
    public var state: String
    /// healthy, unhealthy, starting, or none when the service has no healthcheck.
    public var health: String
    public var exitCode: Int?
    /// The last healthcheck's output (trimmed), for failure reports.
    public var lastHealthOutput: String?

    public var isReady: Bool { state == "running" && (health == "healthy" || health == "none") }
    public var hasFailed: Bool { state == "exited" || state == "dead" || health == "unhealthy" }

    /// "running, healthy" / "exited (code 1)".
    public var summary: String {
        if state == "exited" || state == "dead" { return "\(state) (code \(exitCode ?? -1))" }
        return health == "none" ? state : "\(state), \(health)"
    }
}

/// A compose project driven through whichever compose is installed (`docker compose`,
/// `docker-compose` or `podman-compose`), with container state read from the engine's API so
/// all three report alike. Secrets reach compose through its environment, never its arguments.
public struct ComposeProject: Sendable {
    public var name: String
    /// The directory holding compose.yaml.
    public var directory: String
    public var flavour: ComposeFlavour
    public var engine: ContainerEngine
    /// The whole environment compose runs with (ours plus the NUVOLA_* variables).
    public var environment: [String: String]

    public init(name: String, directory: String, flavour: ComposeFlavour, engine: ContainerEngine,
                environment: [String: String]) {
        self.name = name
        self.directory = directory
        self.flavour = flavour
        self.engine = engine
        self.environment = environment
    }

    public var file: String { "\(directory)/compose.yaml" }

    /// The full command line for `arguments` (without the environment).
    public func commandLine(_ arguments: [String]) -> [String] {
        flavour.command + ["--project-name", name, "--file", file] + arguments
    }

    /// Runs compose to completion, capturing its output.
    public func run(_ arguments: [String], timeout: Duration? = nil) async throws -> ProcessResult {
        let line = commandLine(arguments)
        return try await ChildProcess.run(line[0], Array(line.dropFirst()), environment: environment,
                                          directory: directory, timeout: timeout)
    }

    /// Hands the terminal to compose (`logs -f`, `exec`, a database shell): devbox's process
    /// becomes compose's, so keys, colours, Ctrl-C and the exit status are compose's own.
    public func replaceProcess(_ arguments: [String]) throws -> Never {
        let line = commandLine(arguments)
        guard let path = Executable.find(line[0], environment: environment) else {
            throw ComposeError("\(line[0]) is not installed; `devbox doctor` says what to install.")
        }
        FileManager.default.changeCurrentDirectoryPath(directory)
        let argv = ([path] + line.dropFirst()).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, argv, envp)
        throw ComposeError("could not start \(path): \(String(cString: strerror(errno)))")
    }

    /// The project's containers, one per service (the newest when a service has several).
    public func services(http: HTTPClient) async throws -> [ServiceState] {
        let filter = #"{"label":["com.docker.compose.project=\#(name)"]}"#
        let query = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let list: [[String: Any]] = try await engineJSON("/containers/json?all=1&filters=\(query)", http: http) as? [[String: Any]] ?? []
        var states: [String: ServiceState] = [:]
        for summary in list {
            guard let id = summary["Id"] as? String,
                  let labels = summary["Labels"] as? [String: String],
                  let service = labels["com.docker.compose.service"] else { continue }
            let detail = try await engineJSON("/containers/\(id)/json", http: http) as? [String: Any] ?? [:]
            let state = detail["State"] as? [String: Any] ?? [:]
            let health = state["Health"] as? [String: Any]
            let log = (health?["Log"] as? [[String: Any]])?.last
            let output = (log?["Output"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines)
            let entry = ServiceState(service: service, container: String(id.prefix(12)),
                                     state: state["Status"] as? String ?? "unknown",
                                     health: health?["Status"] as? String ?? "none",
                                     exitCode: state["ExitCode"] as? Int, lastHealthOutput: output?.isEmpty == true ? nil : output)
            if states[service] == nil || entry.state == "running" { states[service] = entry }
        }
        return states.values.sorted { $0.service < $1.service }
    }

    func engineJSON(_ path: String, http: HTTPClient) async throws -> Any {
        let base = engine.url ?? "http://localhost"
        let request = HTTPRequest(url: base + path, timeouts: HTTPTimeouts(connect: .seconds(3), total: .seconds(10)),
                                  unixSocketPath: engine.socketPath)
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch let error as HTTPError {
            throw ComposeError("the \(engine.kind.rawValue) engine at \(engine.address) does not answer (\(error.summary)). "
                + "Start it (sudo systemctl start \(engine.kind.rawValue)) or point DOCKER_HOST at a running engine; `devbox doctor` checks.")
        }
        guard response.status == 200 else {
            throw ComposeError("the engine answered HTTP \(response.status) to \(path): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: Data(response.body))
    }
}
