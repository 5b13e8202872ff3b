import Foundation
import Synchronization

/// What a finished child process left: exit status and captured output.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]

    public var succeeded: Bool { status == 0 }
    public var output: String { String(decoding: standardOutput, as: UTF8.self) }
    public var errorOutput: String { String(decoding: standardError, as: UTF8.self) }
}

/// A child process failed to start or was stopped by its time limit.
public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    public var command: String
    public var reason: String
    public var description: String { "\(command): \(reason)" }

    public init(command: String, reason: String) {
        self.command = command
        self.reason = reason
    }
}

/// Runs other programs. Secrets never go in `arguments` (other users see argv in `ps`): pass
/// them through `environment` or `input`.
public enum ChildProcess {
    /// Runs `executable` (a path, or a name looked up in PATH) to completion, capturing output.
    /// - Parameters:
    ///   - environment: the child's whole environment; nil inherits ours.
    ///   - input: bytes written to the child's stdin, which is then closed.
    ///   - timeout: the child is killed (SIGTERM, then SIGKILL) when it runs longer.
    public static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                           directory: String? = nil, input: [UInt8]? = nil,
                           timeout: Duration? = nil) async throws -> ProcessResult {
        guard let path = Executable.find(executable, environment: environment) else {
            throw ChildProcessError(command: executable, reason: "not found in PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin

        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { exited.continuation.yield($0.terminationStatus) }
        do {
            try spawn(process)
        } catch {
            throw ChildProcessError(command: executable, reason: "could not start: \(error.localizedDescription)")
        }
        // Read both pipes on their own threads so a chatty child never blocks on a full pipe.
        async let out = readAll(stdout.fileHandleForReading)
        async let err = readAll(stderr.fileHandleForReading)
        if let input {
            let handle = stdin.fileHandleForWriting
            Thread.detachNewThread {
                try? handle.write(contentsOf: Data(input))
                try? handle.close()
            }
        }
        let expired = ExpiryFlag()
        let watchdog = timeout.map { limit in
            Task {
                try await Task.sleep(for: limit)
                expired.set()
                process.terminate()
                try await Task.sleep(for: .seconds(2))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }
        var status: Int32 = -1
        for await code in exited.stream {
            status = code
            break
        }
        watchdog?.cancel()
        let result = ProcessResult(status: status, standardOutput: await out, standardError: await err)
        if expired.isSet, let timeout {
            throw ChildProcessError(command: executable, reason: "stopped after its time limit of \(timeout)")
        }
        return result
    }

    /// Starts `process`. Foundation's `Process.run` is not safe to call from several threads
    /// at once (under the full test suite it crashed in memcpy), so every spawn in this process
    /// goes through here and they take turns; the children still run side by side.
    public static func spawn(_ process: Process) throws {
        try spawnLock.withLock { _ in try process.run() }
    }

    private static func readAll(_ handle: FileHandle) async -> [UInt8] {
        await Blocking.run { _ in [UInt8]((try? handle.readToEnd()) ?? Data()) }
    }
}

/// One spawn at a time (see `ChildProcess.run`).
private let spawnLock = Mutex<Void>(())

private final class ExpiryFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Finding programs the way a shell does.
public enum Executable {
    /// The full path of `name` (searched in PATH unless it contains a slash), or nil.
    public static func find(_ name: String, environment: [String: String]? = nil) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = (environment ?? ProcessInfo.processInfo.environment)["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
