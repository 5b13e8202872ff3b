import Foundation
import Host

/// A MariaDB server of the test process's own (Fixtures/mariadb_server.py), started on first
/// use; each test takes databases with names of its own on it.
public final class TestDatabase: Sendable {
    public static let user = "devbox"
    /// Test-only, and still passed on stdin, never argv.
    public static let password = "test-pass-\(UUID().uuidString.prefix(8))"

    public let port: Int
    public let socket: String
    private let server: PythonServer

    public static func shared() async throws -> TestDatabase {
        try await launcher.start()
    }

    private static let launcher = Launcher()

    /// A server of the caller's own with extra `mariadbd` options (for a test that needs a
    /// setting the shared server must not change under the other tests' feet).
    public static func dedicated(_ options: [String]) async throws -> TestDatabase {
        TestDatabase(server: try await PythonServer.start(script, [user] + options, firstLine: password))
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mariadb_server.py").path
    }

    /// One start per process, however many tests ask at once (the actor is re-entered while
    /// the server starts, so the start itself is the shared task).
    private actor Launcher {
        private var starting: Task<TestDatabase, any Error>?
        func start() async throws -> TestDatabase {
            if let starting { return try await starting.value }
            let task = Task<TestDatabase, any Error> {
                TestDatabase(server: try await PythonServer.start(TestDatabase.script, [TestDatabase.user],
                                                                  firstLine: TestDatabase.password))
            }
            starting = task
            return try await task.value
        }
    }

    private init(server: PythonServer) {
        self.server = server
        port = server.port
        socket = server.info["socket"] ?? ""
    }

    /// `mysql://devbox:...@127.0.0.1:PORT/NAME`.
    public func url(_ database: String) -> String {
        "mysql://\(Self.user):\(Self.password)@127.0.0.1:\(port)/\(database)"
    }

    /// Runs SQL as root through the server's socket with the mariadb client (for setting up
    /// and checking from outside the code under test); returns tab-separated rows.
    @discardableResult
    public func sql(_ statements: String, database: String? = nil) async throws -> String {
        var arguments = ["--socket=\(socket)", "-uroot", "--batch", "--skip-column-names"]
        if let database { arguments.append(database) }
        let result = try await ChildProcess.run("mariadb", arguments, input: Array(statements.utf8), timeout: .seconds(600))
        guard result.status == 0 else {
            throw TestDatabaseError(message: "mariadb: \(result.errorOutput)")
        }
        return result.output
    }
}

public struct TestDatabaseError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
