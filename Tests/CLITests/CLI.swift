import Foundation
import Host
import TestSupport

/// Runs one of the package's executables as a user would, with a controlled environment.
enum CLI {
    /// The HOME of every run that sets none: one scratch directory per test process, so nothing a
    /// tool writes under ~ lands in the shared temporary directory or meets another process's.
    static let home = try! TemporaryDirectory("cli-home").path

    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                    input: [UInt8]? = nil, directory: String? = nil, timeout: Duration = .seconds(60)) async throws -> ProcessResult {
        // No instance metadata: nothing a test runs may reach past loopback.
        var env = ["PATH": "/usr/bin:/bin", "HOME": home, "NO_COLOR": "1", "TERM": "dumb",
                   "AWS_EC2_METADATA_DISABLED": "true"]
        env.merge(environment) { _, new in new }
        return try await ChildProcess.run(BuildProducts.executable(tool).path, arguments, environment: env,
                                          directory: directory, input: input, timeout: timeout)
    }
}
