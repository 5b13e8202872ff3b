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

    public init(environment: [String: String], http: HTTPClient) {
        self.environment = environment
        self.paths = DevboxPaths(environment: environment)
        self.http = http
    }

    public func run() async -> Checklist {
        var checks = [gitIdentity()]
        checks += await containers()
        checks.append(configFile())
        checks.append(diskSpace())
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

    func containers() async -> [Check] {
        guard let engine = ContainerEngine.detect(environment: environment) else {
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
        if let (flavour, version) = await ComposeFlavour.detect(environment: environment) {
            checks.append(Check("compose", .ok, "\(flavour.rawValue): \(version)"))
        } else {
            checks.append(Check("compose", .failed, "no compose implementation found (docker compose, docker-compose, podman-compose)",
                                fix: engine.kind == .docker ? "sudo apt-get install docker-compose" : "sudo apt-get install podman-compose"))
        }
        return checks
    }

    func configFile() -> Check {
        let existing = [paths.systemConfig, paths.userConfig].filter { FileManager.default.fileExists(atPath: $0) }
        if existing.isEmpty {
            return Check("config", .warning, "no \(paths.systemConfig) or \(paths.userConfig)",
                         fix: "ask your admin to provision this machine, or run `devbox init --repo URL`")
        }
        let unreadable = existing.filter { !FileManager.default.isReadableFile(atPath: $0) }
        if let path = unreadable.first {
            return Check("config", .failed, "\(path) exists but is not readable", fix: "check its permissions")
        }
        return Check("config", .ok, existing.joined(separator: ", "))
    }

    func diskSpace() -> Check {
        let location = (paths.defaultWorkspace as NSString).deletingLastPathComponent
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
