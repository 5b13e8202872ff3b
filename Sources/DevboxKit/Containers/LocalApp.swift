import Crypto
import DumpImport
import Foundation
import HTTP
import Host
import MySQL

/// The app running on this machine: the workspace served by the compose project (web + PHP-FPM
/// and the database), its generated database password, and the ports it publishes.
public struct LocalApp: Sendable {
    public var config: DevboxConfig
    public var paths: DevboxPaths
    public var workspace: String
    public var project: ComposeProject
    public var http: HTTPClient

    /// Finds the engine, compose and the compose files, and prepares the environment compose
    /// will run with. Throws a `ComposeError` naming what is missing.
    public static func prepare(config: DevboxConfig, environment: [String: String], http: HTTPClient) async throws -> LocalApp {
        let paths = DevboxPaths(environment: environment)
        guard let engine = ContainerEngine.detect(environment: environment) else {
            throw ComposeError("neither docker nor podman is installed. Install one (sudo apt-get install docker.io docker-compose), then run the command again.")
        }
        let (flavour, _) = try await ComposeFlavour.detect(environment: environment)
        let directory = try composeDirectory(config: config)
        var composeEnvironment = environment
        composeEnvironment["NUVOLA_WORKSPACE"] = config.workspacePath
        composeEnvironment["NUVOLA_HTTP_PORT"] = String(config.httpPort)
        composeEnvironment["NUVOLA_DB_PORT"] = String(config.databasePort)
        composeEnvironment["NUVOLA_IMAGE_TAG"] = try imageTag(of: directory)
        composeEnvironment["NUVOLA_DB_PASSWORD"] = try databasePassword(paths: paths, project: config.composeProject)
        let project = ComposeProject(name: config.composeProject, directory: directory, flavour: flavour, engine: engine,
                                     environment: composeEnvironment)
        return LocalApp(config: config, paths: paths, workspace: config.workspacePath, project: project, http: http)
    }

    /// compose.directory, else the files installed beside devbox (`<prefix>/share/devbox/compose`),
    /// else a source checkout's `compose/` above the executable (development builds).
    static func composeDirectory(config: DevboxConfig) throws -> String {
        let manager = FileManager.default
        if let configured = config.composeDirectory {
            guard manager.fileExists(atPath: "\(configured)/compose.yaml") else {
                throw ComposeError("compose.directory is \(configured), but there is no compose.yaml in it. Fix the setting (`devbox config show` says where it comes from).")
            }
            return configured
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [executable.appendingPathComponent("../share/devbox/compose").standardized.path,
                          "/usr/local/share/devbox/compose", "/usr/share/devbox/compose"]
        var directory = executable
        for _ in 0..<5 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("compose").path)
        }
        guard let found = candidates.first(where: { manager.fileExists(atPath: "\($0)/compose.yaml") }) else {
            throw ComposeError("devbox's compose files are not installed (looked in \(candidates.prefix(3).joined(separator: ", "))). "
                + "Reinstall devbox, or set compose.directory to a directory holding compose.yaml.")
        }
        return found
    }

    /// A hash of the build contexts (the compose directory's subdirectories): images are tagged
    /// with it, so editing a Dockerfile rebuilds once and an unchanged setup never rebuilds.
    /// compose.yaml itself is not part of it: changing a port or a health check needs no build.
    static func imageTag(of directory: String) throws -> String {
        var hasher = SHA256()
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
        for file in files {
            var isDirectory: ObjCBool = false
            let path = "\(directory)/\(file)"
            guard file.contains("/"), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                  !isDirectory.boolValue else { continue }
            hasher.update(data: Data(file.utf8))
            hasher.update(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return String(Hex.encode(Array(hasher.finalize())).prefix(12))
    }

    /// The compose database's user and schema, as compose/db creates them.
    static let databaseUser = "nuvola"
    static let databaseName = "nuvola"

    /// Where the local database's password is kept (0600).
    static func databasePasswordFile(paths: DevboxPaths, project: String) -> String {
        "\(paths.state)/\(project).db-password"
    }

    /// The compose project's database as seen from this machine, for sync-db: only once `devbox
    /// up` has generated its password.
    public static func databaseURL(config: DevboxConfig, paths: DevboxPaths) throws -> DatabaseURL {
        let file = databasePasswordFile(paths: paths, project: config.composeProject)
        guard let password = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ImportError(.usage, "the local database has not been set up yet: run `devbox up` first (or pass --database-url).")
        }
        return DatabaseURL(endpoint: MySQLEndpoint(host: "127.0.0.1", port: config.databasePort, user: databaseUser,
                                                  password: password.trimmingCharacters(in: .whitespacesAndNewlines)),
                           database: databaseName)
    }

    /// The local database's password: generated once per machine and project, kept 0600.
    static func databasePassword(paths: DevboxPaths, project: String) throws -> String {
        let file = databasePasswordFile(paths: paths, project: project)
        if let existing = try? String(contentsOfFile: file, encoding: .utf8), !existing.isEmpty {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let password = String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
        try SecretFile.write(password + "\n", to: file)
        return password
    }

    var databasePassword: String { project.environment["NUVOLA_DB_PASSWORD"] ?? "" }

    /// The URL the app container connects with (`db` is the service's name on compose's network).
    var containerDatabaseURL: String {
        "mysql://\(Self.databaseUser):\(databasePassword)@db:3306/\(Self.databaseName)?serverVersion=10.11.0-MariaDB&charset=utf8mb4"
    }

    public var appURL: String { "http://127.0.0.1:\(config.httpPort)/" }

    /// Writes DATABASE_URL into the workspace's .env.local the Symfony way (mode 0600, other
    /// lines kept), unless it already says the same.
    func writeEnvLocal() throws {
        let path = "\(workspace)/.env.local"
        let line = "DATABASE_URL=\"\(containerDatabaseURL)\""
        var lines = (try? String(contentsOfFile: path, encoding: .utf8))?.components(separatedBy: "\n") ?? []
        if lines.contains(line) { return }
        lines.removeAll { $0.hasPrefix("DATABASE_URL=") }
        while lines.last == "" { lines.removeLast() }
        if lines.isEmpty { lines.append("# Written by devbox: the local database (`devbox db` opens a shell on it).") }
        lines.append(line)
        try SecretFile.write(lines.joined(separator: "\n") + "\n", to: path)
    }

    /// Published ports held by something other than this project's own containers.
    func busyPorts(running: [ServiceState]) -> [(port: Int, setting: String)] {
        guard !running.contains(where: { $0.state == "running" }) else { return [] }
        return config.publishedPorts.filter { !PortProbe.isFree($0.port) }
    }
}

/// Whether a loopback TCP port can be bound.
public enum PortProbe {
    public static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}
