import Foundation
import Host

/// The Docker engine the container tests use: `scripts/engine up` (idempotent: it starts
/// dockerd with its own socket and builds the debootstrapped base image only when missing).
public enum TestEngine {
    /// The repository's root, found from this file's place in it.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `unix:///...docker.sock` of a running engine, started on first use.
    public static func dockerHost() async throws -> String {
        try await launcher.start()
    }

    private static let launcher = Launcher()

    private actor Launcher {
        private var host: String?

        func start() async throws -> String {
            if let host { return host }
            let result = try await ChildProcess.run("\(repositoryRoot)/scripts/engine", ["up"], timeout: .seconds(600))
            guard result.succeeded, let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("export DOCKER_HOST=") }) else {
                throw ChildProcessError(command: "scripts/engine up", reason: result.errorOutput)
            }
            let value = String(line.dropFirst("export DOCKER_HOST=".count))
            host = value
            return value
        }
    }
}
