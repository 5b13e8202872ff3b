import AWS
import Foundation
import Git
import HTTP
import Host
import Terminal

/// `devbox doctor`: checks what devbox needs on this machine and says how to fix what is missing.
public struct DevboxDoctor: Sendable {
    public var environment: [String: String]
    public var paths: DevboxPaths
    public var http: HTTPClient
    /// Below this much free space images and dumps will not fit.
    public var diskFailBelow: Int64 = 2 << 30
    public var diskWarnBelow: Int64 = 10 << 30
    /// Seconds since 1970, for comparing with a server's clock.
    public var now: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    public init(environment: [String: String], http: HTTPClient) {
        self.environment = environment
        self.paths = DevboxPaths(environment: environment)
        self.http = http
    }

    public func run() async -> Checklist {
        var checks = [gitIdentity()]
        let engine = ContainerEngine.detect(environment: environment)
        checks += await containers(engine)
        let config: DevboxConfig
        do {
            config = try DevboxConfig.load(paths: paths, environment: environment)
            checks.append(configFile(warnings: config.warnings))
        } catch {
            checks.append(Check("config", .failed, "\(error)", fix: "fix the file named above"))
            config = DevboxConfig.defaults(home: environment["HOME"] ?? NSHomeDirectory())
        }
        checks.append(workspace(config: config))
        checks.append(await ports(config: config, engine: engine))
        checks += await diskSpace(config: config, engine: engine)
        checks.append(await clock(config: config))
        return Checklist(checks)
    }

    func gitIdentity() -> Check {
        do {
            let config = try GitConfig.global()
            let name = try config.string("user.name")
            let email = try config.string("user.email")
            switch (name, email) {
            case let (name?, email?):
                return Check("git identity", .ok, "\(name) <\(email)>")
            default:
                let missing = [name == nil ? "user.name" : nil, email == nil ? "user.email" : nil].compactMap { $0 }
                return Check("git identity", .warning, "\(missing.joined(separator: " and ")) not set; commits would be anonymous",
                             fix: missing.map { "git config --global \($0) \"...\"" }.joined(separator: " && "))
            }
        } catch {
            return Check("git identity", .warning, "cannot read git configuration: \(error)",
                         fix: "check ~/.gitconfig is readable")
        }
    }

    func containers(_ engine: ContainerEngine?) async -> [Check] {
        guard let engine else {
            return [
                Check("container engine", .failed, "neither docker nor podman is installed",
                      fix: "sudo apt-get install docker.io docker-compose"),
                Check("compose", .failed, "no compose without a container engine", fix: "install the engine first"),
            ]
        }
        var checks: [Check] = []
        if let problem = await engine.ping(http: http) {
            checks.append(Check("container engine", .failed, "\(engine.kind.rawValue) is installed but its engine at \(engine.address) does not answer: \(problem)",
                                fix: engine.kind == .docker
                                    ? "start it (sudo systemctl start docker) or set DOCKER_HOST to a running engine"
                                    : "start it (systemctl --user start podman.socket)"))
        } else {
            checks.append(Check("container engine", .ok, "\(engine.kind.rawValue) engine answers at \(engine.address)"))
        }
        do {
            let (flavour, version) = try await ComposeFlavour.detect(environment: environment)
            checks.append(Check("compose", .ok, "\(flavour.rawValue): \(version)"))
        } catch {
            checks.append(Check("compose", .failed, error.message,
                                fix: engine.kind == .docker ? "sudo apt-get install docker-compose" : "sudo apt-get install podman-compose"))
        }
        return checks
    }

    /// The clone at workspace.path, on the integration branch or a branch from it: what a newly
    /// provisioned machine must have (`adminctl onboard` waits for this check).
    func workspace(config: DevboxConfig) -> Check {
        let workspace = Workspace(config: config, environment: environment)
        do {
            let check = try workspace.branchCheck()
            if check.isFlagged {
                return Check("workspace", .warning, "\(workspace.path): \(check.summary)", fix: "devbox status")
            }
            return Check("workspace", .ok, "\(workspace.path): \(check.summary)")
        } catch let error as WorkspaceError where error.kind == .notInitialised {
            return Check("workspace", .warning, "no clone at \(workspace.path) yet", fix: "devbox init")
        } catch {
            return Check("workspace", .failed, "\(workspace.path) cannot be read as a git repository: \(error)",
                         fix: "move it away and run `devbox init`")
        }
    }

    func configFile(warnings: [String]) -> Check {
        let existing = [paths.systemConfig, paths.userConfig].filter { FileManager.default.fileExists(atPath: $0) }
        if existing.isEmpty {
            return Check("config", .warning, "no \(paths.systemConfig) or \(paths.userConfig)",
                         fix: "ask your admin to provision this machine, or run `devbox init --repo URL`")
        }
        let unreadable = existing.filter { !FileManager.default.isReadableFile(atPath: $0) }
        if let path = unreadable.first {
            return Check("config", .failed, "\(path) exists but is not readable", fix: "check its permissions")
        }
        if let warning = warnings.first {
            return Check("config", .warning, warning, fix: "remove or correct the setting")
        }
        return Check("config", .ok, existing.joined(separator: ", "))
    }

    /// The app's and the database's loopback ports: free, or held by this project's containers.
    func ports(config: DevboxConfig, engine: ContainerEngine?) async -> Check {
        let wanted = config.publishedPorts
        let busy = wanted.filter { !PortProbe.isFree($0.port) }
        if busy.isEmpty { return Check("ports", .ok, "\(wanted.map { String($0.port) }.joined(separator: " and ")) free on 127.0.0.1") }
        if let engine {
            if let states = try? await engine.services(ofProject: config.composeProject, http: http),
               states.contains(where: { $0.state == "running" }) {
                return Check("ports", .ok, "\(wanted.map { String($0.port) }.joined(separator: " and ")) held by \(config.composeProject)'s own containers")
            }
        }
        let (port, setting) = busy[0]
        return Check("ports", .failed, "port \(port) on 127.0.0.1 is in use by another program; `devbox up` could not publish it",
                     fix: "stop it (ss -ltnp 'sport = :\(port)') or set \(setting) in ~/.config/devbox/config.toml")
    }

    /// Compares this machine's clock with the S3 endpoint dumps come from (sync-db signs requests).
    func clock(config: DevboxConfig) async -> Check {
        let shared = SharedConfig.load(environment: environment)
        let region = config.region ?? Region.resolve(flag: nil, environment: environment, shared: shared)?.name ?? "us-east-1"
        let endpoint = Endpoint.resolve(.s3, region: region, environment: environment, shared: shared)
        var probe = HTTPRequest(method: .head, url: endpoint.url + "/", timeouts: HTTPTimeouts(connect: .seconds(3), total: .seconds(5)))
        probe.caBundlePath = environment["AWS_CA_BUNDLE"]
        guard let response = try? await http.send(probe), let header = response.headers["Date"], let date = HTTPDate.parse(header) else {
            return Check("clock", .warning, "could not read the time from \(endpoint.url); clock not compared",
                         fix: "check this machine reaches S3 (sync-db needs it)")
        }
        return Check.clock(skew: date.timeIntervalSince1970 - now(), against: endpoint.url)
    }

    /// Free space where the workspace, the dump cache and the engine's images live (one check
    /// per file system).
    func diskSpace(config: DevboxConfig, engine: ContainerEngine?) async -> [Check] {
        var locations = [(config.workspacePath as NSString).deletingLastPathComponent, paths.cache]
        if let engine, let root = await engineRoot(engine) { locations.append(root) }
        var seen = Set<UInt64>()
        var checks: [Check] = []
        for location in locations {
            let existing = Self.nearestExisting(location)
            var info = stat()
            guard stat(existing, &info) == 0, seen.insert(UInt64(info.st_dev)).inserted else { continue }
            checks.append(diskSpace(at: existing))
        }
        return checks
    }

    /// The engine's data directory (where images and volumes live), from its /info.
    func engineRoot(_ engine: ContainerEngine) async -> String? {
        (try? await engine.engineJSON("/info", http: http) as? [String: Any])?["DockerRootDir"] as? String
    }

    static func nearestExisting(_ path: String) -> String {
        var current = path
        while !FileManager.default.fileExists(atPath: current), current != "/" {
            current = (current as NSString).deletingLastPathComponent
            if current.isEmpty { return "/" }
        }
        return current
    }

    func diskSpace(at location: String) -> Check {
        guard let free = DiskSpace.available(at: location) else {
            return Check("disk space", .warning, "cannot measure free space at \(location)")
        }
        let text = "\(Format.bytes(free)) free at \(location)"
        if free < diskFailBelow {
            return Check("disk space", .failed, text + "; images and dumps need at least \(Format.bytes(diskFailBelow))",
                         fix: "free space (docker system prune, devbox db snapshots --prune) or grow the volume")
        }
        if free < diskWarnBelow {
            return Check("disk space", .warning, text + "; below \(Format.bytes(diskWarnBelow)) a dump import may not fit",
                         fix: "free space or grow the volume")
        }
        return Check("disk space", .ok, text)
    }
}
