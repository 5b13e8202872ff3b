import Foundation
import HTTP
import Host

/// Compose or the engine refused or failed: what, why, and what to do.
public struct ComposeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
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
        _ = FileManager.default.changeCurrentDirectoryPath(directory)
        let argv = ([path] + line.dropFirst()).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, argv, envp)
        throw ComposeError("could not start \(path): \(String(cString: strerror(errno)))")
    }

    /// The project's containers, one per service, as the engine reports them.
    public func services(http: HTTPClient) async throws -> [ServiceState] {
        try await engine.services(ofProject: name, http: http)
    }
}

