import Foundation

/// The Python test server in Fixtures/, started once per test process on loopback.
/// It exits when our end of its stdin closes, i.e. when the test process ends.
public final class TestServer: Sendable {
    /// The server script, also run directly by Benchmarks/http-download.
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/testserver.py").path

    public struct Info: Decodable, Sendable {
        public var port: Int
        public var unix: String
        public var tlsPort: Int
        public var caBundle: String
        public var blackholePort: Int
    }

    public let info: Info
    private let server: PythonServer

    /// The one server of this test process, started on first use.
    public static func shared() async -> TestServer {
        await launcher.server()
    }

    private static let launcher = Launcher()

    private actor Launcher {
        private var starting: Task<TestServer, Never>?

        func server() async -> TestServer {
            if let starting { return await starting.value }
            let task = Task<TestServer, Never> {
                do {
                    let server = try await PythonServer.start(TestServer.script)
                    return try TestServer(server)
                } catch {
                    fatalError("cannot start the test server: \(error)")
                }
            }
            starting = task
            return await task.value
        }
    }

    private init(_ server: PythonServer) throws {
        self.server = server
        info = try JSONDecoder().decode(Info.self, from: server.line)
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(info.port)\(path)" }
    public func tlsURL(_ path: String) -> String { "https://127.0.0.1:\(info.tlsPort)\(path)" }
}

/// A fresh temporary directory, removed by the caller with `remove()`; `purpose` goes in its
/// name so a leftover says which test left it.
public struct TemporaryDirectory: Sendable {
    public let path: String
    public init(_ purpose: String = "tests") throws {
        path = NSTemporaryDirectory() + "nuvola-\(purpose)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { path + "/" + name }
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Where `swift build` put the package's executables: beside the test bundle.
public enum BuildProducts {
    public static var directory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }
    public static func executable(_ name: String) -> URL { directory.appendingPathComponent(name) }
}
