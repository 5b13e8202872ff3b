import Foundation
import Host
import TestSupport

/// Runs one of the package's executables as a user would, with a controlled environment.
enum CLI {
    /// The HOME of every run that sets none: one scratch directory per test process, so nothing a
    /// tool writes under ~ lands in the shared temporary directory or meets another process's.
    static let home = try! TemporaryDirectory("cli-home").path

    /// The environment every run starts from; `environment` is laid over it.
    static func environment(_ environment: [String: String]) -> [String: String] {
        // No instance metadata: nothing a test runs may reach past loopback.
        ["PATH": "/usr/bin:/bin", "HOME": home, "NO_COLOR": "1", "TERM": "dumb", "AWS_EC2_METADATA_DISABLED": "true"]
            .merging(environment) { _, new in new }
    }

    /// Starts the tool and returns at once, for tests that signal it while it works: the running
    /// process and its stderr (stdout is discarded).
    static func launch(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                       directory: String? = nil) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = BuildProducts.executable(tool)
        process.arguments = arguments
        process.environment = Self.environment(environment)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try ChildProcess.spawn(process)  // Foundation's Process.run: through the one door (see ChildProcess.spawn)
        return (process, stderr)
    }

    /// Waits for a launched tool to end and returns its exit status and stderr. Off the
    /// cooperative pool (two threads on a 2-core machine): a test blocked in waitUntilExit there
    /// stalls every other test's tasks, watchdogs and polls included.
    static func finish(_ process: Process, _ stderr: Pipe) async -> (status: Int32, errorOutput: String) {
        let box = UncheckedProcess(process: process, stderr: stderr)
        return await Blocking.run { _ in
            let data = box.stderr.fileHandleForReading.readDataToEndOfFile()   // first: a full pipe would block the child
            box.process.waitUntilExit()
            return (box.process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }

    /// `timeout` guards against a hang; it is no measure of speed: a dozen simulated clouds running
    /// `infra up` at once on two cores take more than a minute each (a fresh-clone run saw 14 time out at 60 s).
    /// Waits for a launched tool whose stdout and stderr are both pipes: each read to its end,
    /// then its exit status; off the cooperative pool, as `finish(_:_:)`.
    static func finish(_ process: Process, output: Pipe, errors: Pipe) async -> (output: String, errors: String, status: Int32) {
        let box = UncheckedProcess(process: process, stderr: errors, stdout: output)
        return await Blocking.run { _ in
            let output = String(decoding: box.stdout?.fileHandleForReading.readDataToEndOfFile() ?? Data(), as: UTF8.self)
            let errors = String(decoding: box.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            box.process.waitUntilExit()
            return (output, errors, box.process.terminationStatus)
        }
    }

    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                    input: [UInt8]? = nil, directory: String? = nil, timeout: Duration = .seconds(300)) async throws -> ProcessResult {
        try await ChildProcess.run(BuildProducts.executable(tool).path, arguments, environment: Self.environment(environment),
                                          directory: directory, input: input, timeout: timeout)
    }
}

/// A launched process handed to the thread that waits for it (Foundation's Process is not Sendable;
/// only that thread touches it until it has ended).
private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
    let stderr: Pipe
    var stdout: Pipe? = nil
}
