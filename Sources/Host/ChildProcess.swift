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
    ///   - processGroup: the child leads a process group, so stopping it stops what it started too.
    public static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                           directory: String? = nil, input: [UInt8]? = nil,
                           timeout: Duration? = nil, processGroup: Bool = false) async throws -> ProcessResult {
        guard let path = Executable.find(executable, environment: environment) else {
            throw ChildProcessError(command: executable, reason: "not found in PATH")
        }
        let child = try SpawnedProcess.start(path, arguments, environment: environment, directory: directory,
                                             input: input == nil ? .null : .pipe, processGroup: processGroup)
        // Read both pipes on their own threads so a chatty child never blocks on a full pipe.
        async let out = SpawnedProcess.readAll(child.output)
        async let err = SpawnedProcess.readAll(child.error)
        if let input {
            _ = ignoringBrokenPipes
            let fd = child.input
            Thread.detachNewThread {
                defer { close(fd) }
                // A child that exits without reading its input: EPIPE (not SIGPIPE, see above).
                try? input.withUnsafeBytes { try FileDescriptor.writeAll(fd, $0) }
            }
        }
        let expired = ExpiryFlag()
        let finished = ExpiryFlag()
        // The watchdog runs on a dispatch queue, not the cooperative pool: when blocking work fills
        // the pool's threads (two on a 2-core machine), a sleeping task would wake too late.
        if let timeout {
            let queue = DispatchQueue.global()
            queue.asyncAfter(deadline: .now() + timeout.seconds) {
                guard !finished.isSet else { return }
                expired.set()
                child.signal(SIGTERM)
                queue.asyncAfter(deadline: .now() + 2) {
                    if !finished.isSet { child.signal(SIGKILL) }
                }
            }
        }
        let status = try await child.wait()
        finished.set()
        let result = ProcessResult(status: status, standardOutput: await out, standardError: await err)
        if expired.isSet, let timeout {
            throw ChildProcessError(command: executable, reason: "stopped after its time limit of \(timeout)")
        }
        return result
    }

    /// Starts a Foundation `process` (for the few callers that need its object). They take
    /// turns: Foundation 6.3.1's `Process.run` reads /proc/self/fd into a fixed buffer and
    /// overruns it once some 1,365 descriptors are open (swift-corelibs-foundation #5472), so
    /// keep those callers few; `ChildProcess.run` does not use it (see `SpawnedProcess`).
    public static func spawn(_ process: Process) throws {
        try spawnLock.withLock { _ in try process.run() }
    }

}

/// Writing to a child that has exited raises SIGPIPE, whose default ends this process: it is
/// ignored from the first write on (write then fails with EPIPE). Children get the default back.
private let ignoringBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

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
