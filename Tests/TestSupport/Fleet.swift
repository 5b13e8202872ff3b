import Foundation
import Host

/// The local simulated cloud (Tests/Fleet) for integration tests: started with request
/// authentication on, stopped when the test process exits.
public final class Fleet: Sendable {
    /// The `export`s `fleet up` printed: endpoint, region, credentials of the `fleet-admin` user.
    public let environment: [String: String]
    public let state: String

    public var endpoint: String { environment["AWS_ENDPOINT_URL"]! }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    public static let command = packageRoot.appendingPathComponent("Tests/Fleet/fleet").path

    /// The one shared simulator of this test process. Tests that inject faults start their own.
    public static func shared() async throws -> Fleet {
        try await launcher.fleet()
    }

    private static let launcher = Launcher()

    private actor Launcher {
        private var starting: Task<Fleet, any Error>?
        func fleet() async throws -> Fleet {
            if let starting { return try await starting.value }
            let task = Task { try await Fleet.start() }
            starting = task
            return try await task.value
        }
    }

    /// A simulator of its own (fault injection is per simulator). `timeScale` compresses AWS's
    /// load-balancer and scaling time (FLEET_TIME_SCALE): 0.05 makes a 15 s health check 0.75 s.
    public static func start(auth: Bool = true, timeScale: Double? = nil) async throws -> Fleet {
        let state = try TemporaryDirectory("fleet").path
        let arguments = ["up", "--state", state, "--exit-with", String(getpid())] + (auth ? ["--auth"] : [])
        let output = try await run(arguments, environment: timeScale.map {
            ProcessInfo.processInfo.environment.merging(["FLEET_TIME_SCALE": String($0)]) { $1 }
        })
        var environment: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { environment[String(pair[0])] = String(pair[1]) }
        }
        guard environment["AWS_ENDPOINT_URL"] != nil else { throw FleetError(message: "fleet up printed no endpoint") }
        return Fleet(environment: environment, state: state)
    }

    private init(environment: [String: String], state: String) {
        self.environment = environment
        self.state = state
    }

    /// Adds a fault rule (see Tests/Fleet/simulator/faults.py).
    public func inject(kind: String, service: String = "*", operation: String = "*", count: Int? = nil,
                       rate: Double? = nil, seconds: Double? = nil, afterBytes: Int? = nil, code: String? = nil,
                       status: Int? = nil, message: String? = nil, skip: Int? = nil) async throws {
        var arguments = ["inject", "--state", state, "--kind", kind, "--service", service, "--operation", operation]
        if let code { arguments += ["--code", code] }
        if let status { arguments += ["--status", String(status)] }
        if let message { arguments += ["--message", message] }
        if let count { arguments += ["--count", String(count)] }
        if let rate { arguments += ["--rate", String(rate)] }
        if let seconds { arguments += ["--seconds", String(seconds)] }
        if let afterBytes { arguments += ["--after-bytes", String(afterBytes)] }
        if let skip { arguments += ["--skip", String(skip)] }
        _ = try await Self.run(arguments)
    }

    /// Makes the simulated cloud's clock run `offset` seconds ahead of this machine's.
    public func setClock(offset: Double) async throws {
        _ = try await Self.run(["clock", "--state", state, "--offset", String(offset)])
    }

    /// Takes an instance's agent offline (or back), or delays delivery to it.
    public func setAgent(_ instanceID: String, online: Bool? = nil, delay: Double? = nil) async throws {
        var arguments = ["agent", "--state", state, "--instance", instanceID]
        if let online { arguments.append(online ? "--online" : "--offline") }
        if let delay { arguments += ["--delay", String(delay)] }
        _ = try await Self.run(arguments)
    }

    /// `fleet status --json`: instances, and each load balancer's local haproxy URLs.
    public func status() async throws -> [String: Any] {
        let output = try await Self.run(["status", "--json", "--state", state])
        guard let value = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
            throw FleetError(message: "fleet status --json printed no object")
        }
        return value
    }

    /// The root directory of an instance's simulated filesystem.
    public func root(of instanceID: String) -> String { "\(state)/instances/\(instanceID)/root" }

    /// The fault rules in force, each with its `hits` so far (`fleet faults`).
    public func faults() async throws -> [[String: Any]] {
        let output = try await Self.run(["faults", "--state", state])
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }

    public func clearFaults() async throws { _ = try await Self.run(["clear", "--state", state]) }

    public func stop() async throws { _ = try await Self.run(["down", "--state", state]) }

    static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> String {
        let result = try await ChildProcess.run(command, arguments, environment: environment, timeout: .seconds(120))
        guard result.succeeded else {
            throw FleetError(message: "fleet \(arguments.first ?? "") failed: \(result.errorOutput.suffix(2000))")
        }
        return result.output
    }
}

public struct FleetError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
