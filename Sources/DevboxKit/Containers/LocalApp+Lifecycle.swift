import Foundation
import HTTP
import Host
import Synchronization
import Terminal

/// What `devbox up` reports once the app is healthy.
public struct UpReport: Sendable, Encodable {
    public var url: String
    public var database: DatabaseInfo
    public var services: [ServiceState]
    public var seconds: Double
    public var built: Bool
}

/// `devbox up`'s result: the running app and where the workspace's branch stands.
public struct UpDocument: Sendable, Encodable {
    public var up: UpReport
    public var check: BranchCheck

    public init(up: UpReport, check: BranchCheck) {
        self.up = up
        self.check = check
    }

    public func render(_ policy: ColorPolicy) -> String {
        let database = up.database
        return """
            \(Style.green.apply("✔", policy)) The app is up in \(Format.duration(up.seconds))\(up.built ? " (images built)" : "").
              app       \(up.url)
              database  mysql://\(database.user)@\(database.host):\(database.port)/\(database.database) (password in \(database.passwordIn))
              shell     devbox db
            """
    }
}

/// How to reach the local database (the password is in .env.local, never printed).
public struct DatabaseInfo: Sendable, Encodable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var passwordIn: String
}

extension LocalApp {
    public var databaseInfo: DatabaseInfo {
        DatabaseInfo(host: "127.0.0.1", port: config.databasePort, user: Self.databaseUser, database: Self.databaseName,
                     passwordIn: "\(workspace)/.env.local")
    }

    /// `up` with a spinner on `output` (stderr) showing the services' state as they start.
    public func up(showingProgressOn output: TextOutput) async throws -> UpReport {
        try await Spinner.during("starting \(config.composeProject)", output: output,
                                 finish: { ("healthy", $0.services.map(\.service).joined(separator: " and ")) }) { spinner in
            try await up { spinner.update($0) }
        }
    }

    /// Builds what is missing, starts the project and waits until every service is healthy,
    /// calling `onProgress` with a one-line view of the services as it goes. On failure the
    /// project is stopped (data kept) and the error names the service, its health output and
    /// its last log lines.
    public func up(onProgress: @escaping @Sendable (String) -> Void) async throws -> UpReport {
        let started = ContinuousClock.now
        guard FileManager.default.fileExists(atPath: workspace) else {
            throw ComposeError("there is no workspace at \(workspace) to serve. Run `devbox init` first.")
        }
        let before = try await project.services(http: http)
        let busy = busyPorts(running: before)
        if let (port, setting) = busy.first {
            throw ComposeError("port \(port) on 127.0.0.1 is already in use by another program, so the app cannot publish it. "
                + "Find it with `ss -ltnp 'sport = :\(port)'` and stop it, or choose another port: "
                + "`devbox config show` → set \(setting) in ~/.config/devbox/config.toml (or \(DevboxConfig.settings.first { $0.key == setting }?.environmentName ?? "its DEVBOX_ variable")).")
        }
        try writeEnvLocal()

        let built = try await buildIfNeeded(onProgress: onProgress)
        try await startProject(onProgress: onProgress)
        let states = try await waitUntilHealthy(deadline: started + .seconds(config.healthTimeout), onProgress: onProgress)
        return UpReport(url: appURL, database: databaseInfo, services: states,
                        seconds: (ContinuousClock.now - started).seconds, built: built)
    }

    /// `compose up --detach`, watching the services while it runs: it waits for dependencies'
    /// health itself (depends_on: service_healthy).
    func startProject(onProgress: @escaping @Sendable (String) -> Void) async throws {
        let finished = Atomic<Bool>(false)
        let watcher = Task {
            while !Task.isCancelled && !finished.load(ordering: .relaxed) {
                if let states = try? await project.services(http: http) { onProgress(Self.describe(states)) }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        let result = try await project.run(["up", "--detach", "--remove-orphans"], timeout: .seconds(config.healthTimeout))
        finished.store(true, ordering: .relaxed)
        watcher.cancel()
        guard !result.succeeded else { return }
        let states = (try? await project.services(http: http)) ?? []
        if states.contains(where: \.hasFailed) {
            throw await failure(states)
        }
        try await rejectInvalidFile()
        throw ComposeError("compose could not start the project (\(project.file)):\n\(Self.tail(result.errorOutput, 15))\n"
            + "Fix what it names; `devbox doctor` checks the engine.")
    }

    /// Polls the services until all are ready (their states), one has failed, or `deadline`
    /// passes (then the project is stopped).
    func waitUntilHealthy(deadline: ContinuousClock.Instant, onProgress: @escaping @Sendable (String) -> Void) async throws -> [ServiceState] {
        while true {
            let states = try await project.services(http: http)
            onProgress(Self.describe(states))
            if states.contains(where: \.hasFailed) { throw await failure(states) }
            if !states.isEmpty, states.allSatisfy(\.isReady) { return states }
            if ContinuousClock.now > deadline {
                let waiting = states.filter { !$0.isReady }.map(\.service)
                _ = try? await project.run(["stop"], timeout: .seconds(60))
                throw ComposeError("\(waiting.joined(separator: ", ")) did not become healthy within \(config.healthTimeout) s; "
                    + "the project is stopped, data kept. See `devbox logs \(waiting.first ?? "")`, or allow longer "
                    + "with compose.health_timeout.")
            }
            try await Task.sleep(for: .milliseconds(300))
        }
    }

    /// Builds the images when this compose directory's tag is not built yet.
    func buildIfNeeded(onProgress: @escaping @Sendable (String) -> Void) async throws -> Bool {
        let tag = project.environment["NUVOLA_IMAGE_TAG"] ?? "dev"
        var missing = false
        for image in ["nuvola-app", "nuvola-db"] where await !project.engine.hasImage("\(image):\(tag)", http: http) {
            missing = true
        }
        guard missing else { return false }
        onProgress("building images (the first time takes a few minutes)")
        let result = try await project.run(["build"], timeout: .seconds(1800))
        guard result.succeeded else {
            try await rejectInvalidFile()
            throw ComposeError("building the images failed (\(project.directory)):\n\(Self.tail(result.output + result.errorOutput, 20))\n"
                + "If a package could not be downloaded, check this machine reaches deb.debian.org and run `devbox up` again.")
        }
        return true
    }

    /// After compose failed: when the cause is the compose file itself, says so (checked only
    /// then, so a healthy `up` does not pay for a second compose start).
    func rejectInvalidFile() async throws {
        let check = try await project.run(["config", "--quiet"], timeout: .seconds(60))
        guard !check.succeeded else { return }
        throw ComposeError("\(project.file) is not a valid compose file: \(Self.tail(check.errorOutput, 5)) "
            + "Fix it, or unset compose.directory to use the files installed with devbox.")
    }

    /// The failure report: which service, why, and its last log lines; then the project is stopped.
    func failure(_ states: [ServiceState]) async -> ComposeError {
        var parts: [String] = []
        for state in states where state.hasFailed {
            var text = "\(state.service) is \(state.summary)."
            if let output = state.lastHealthOutput { text += " Its last health check said: \(Self.tail(output, 5))" }
            let logs = (try? await project.run(["logs", "--no-color", "--tail", "30", state.service], timeout: .seconds(30)))
            if let logs {
                let lines = Self.tail(logs.output + logs.errorOutput, 30)
                if !lines.isEmpty { text += "\nLast log lines of \(state.service):\n" + lines }
            }
            parts.append(text)
        }
        _ = try? await project.run(["stop"], timeout: .seconds(60))
        return ComposeError(parts.joined(separator: "\n\n")
            + "\n\nThe project is stopped and its data kept; fix the cause and run `devbox up` again (`devbox logs SERVICE` shows more).")
    }

    /// Stops and removes the containers; with `removeData`, the database volume too.
    public func down(removeData: Bool) async throws {
        let result = try await project.run(removeData ? ["down", "--volumes", "--remove-orphans"] : ["down", "--remove-orphans"],
                                           timeout: .seconds(300))
        guard result.succeeded else {
            throw ComposeError("compose could not stop the project:\n\(Self.tail(result.errorOutput, 15))")
        }
    }

    /// "db: running, healthy · app: running, starting".
    static func describe(_ states: [ServiceState]) -> String {
        states.isEmpty ? "creating containers" : states.map { "\($0.service): \($0.summary)" }.joined(separator: " · ")
    }

    static func tail(_ text: String, _ count: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count).joined(separator: "\n")
    }
}
