import Foundation
import Glibc
import Host

/// A bare "origin" repository with `main` and `new_features` (one commit ahead of main), built
/// with the git CLI, plus a seed clone to push more history from.
public struct GitOrigin: Sendable {
    public let directory: TemporaryDirectory
    public var bare: String { directory.file("origin.git") }
    public var seed: String { directory.file("seed") }

    public init() async throws {
        directory = try TemporaryDirectory()
        try await git(["init", "--quiet", "--bare", "--initial-branch=main", bare])
        try await git(["init", "--quiet", "--initial-branch=main", seed])
        try await commit("README.md", "Nuvola\n", "first")
        try await git(["-C", seed, "checkout", "--quiet", "-b", "new_features"])
        try await commit("feature.txt", "feature\n", "a feature")
        try await git(["-C", seed, "checkout", "--quiet", "main"])
        try await git(["-C", seed, "remote", "add", "origin", bare])
        try await git(["-C", seed, "push", "--quiet", "origin", "main", "new_features"])
    }

    /// Writes `file` in the seed clone (on whatever branch it is on) and commits it.
    public func commit(_ file: String, _ content: String, _ message: String, in clone: String? = nil) async throws {
        let root = clone ?? seed
        try content.write(toFile: root + "/" + file, atomically: true, encoding: .utf8)
        try await git(["-C", root, "add", file])
        try await git(["-C", root, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", message])
    }

    /// Runs the git CLI with a clean configuration; throws with its stderr when it fails.
    @discardableResult
    public func git(_ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run("git", arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path,
                                                                              "GIT_CONFIG_NOSYSTEM": "1"])
        guard result.succeeded else {
            throw ChildProcessError(command: "git \(arguments.joined(separator: " "))", reason: result.errorOutput)
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `git http-backend` behind basic auth for user `user` and `token` (given on stdin), serving
    /// this origin's directory; the repository is at `server.url("/origin.git")`.
    public func serveOverHTTP(user: String, token: String) async throws -> PythonServer {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/git_http.py").path
        return try await PythonServer.start(script, [directory.path, user], firstLine: token)
    }
}

extension GitOrigin {
    /// The fixture Symfony-shaped app (Tests/Fixtures/nuvola-app) as an origin with `main` and
    /// `new_features` (one commit ahead).
    public static func nuvolaApp() async throws -> GitOrigin {
        let origin = try await GitOrigin(empty: ())
        let fixture = TestEngine.repositoryRoot + "/Tests/Fixtures/nuvola-app"
        try await origin.git(["init", "--quiet", "--bare", "--initial-branch=main", origin.bare])
        try FileManager.default.copyItem(atPath: fixture, toPath: origin.seed)
        try await origin.git(["-C", origin.seed, "init", "--quiet", "--initial-branch=main"])
        try await origin.git(["-C", origin.seed, "add", "-A"])
        try await origin.git(["-C", origin.seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", "the app"])
        try await origin.git(["-C", origin.seed, "checkout", "--quiet", "-b", "new_features"])
        try await origin.commit("CHANGELOG.md", "- unreleased work\n", "a feature")
        try await origin.git(["-C", origin.seed, "remote", "add", "origin", origin.bare])
        try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "main", "new_features"])
        return origin
    }

    init(empty: Void) async throws {
        directory = try TemporaryDirectory()
    }
}

/// A TCP socket bound to 127.0.0.1 (`port`, or one the kernel picks when 0) and listening: a
/// port something else holds, or an endpoint that takes connections and never answers. The
/// socket closes with `close()`.
public struct LoopbackListener: Sendable {
    public let fd: Int32
    public let port: Int
    /// Whether bind and listen succeeded.
    public let listening: Bool

    public init(port: Int = 0, backlog: Int32 = 16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    public func close() { _ = Glibc.close(fd) }
}

/// A loopback TCP port nothing listens on right now (bound without listening, then closed).
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length)
            return getsockname(fd, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

extension GitOrigin {
    /// `git daemon` on loopback, no authentication, serving this origin as
    /// `git://127.0.0.1:PORT/origin.git`: reachable from inside a simulated instance.
    public func serveOverGitProtocol() async throws -> (server: PythonServer, url: String) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/git_daemon.py").path
        let server = try await PythonServer.start(script, [directory.path])
        return (server, "git://127.0.0.1:\(server.port)/origin.git")
    }
}
