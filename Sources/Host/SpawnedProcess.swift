import Foundation
import Synchronization

/// A child process started with `posix_spawn`, with pipes for the streams asked for. Foundation's
/// `Process.run` crashed here (SIGSEGV in memcpy inside it) when many tasks started children,
/// even one at a time; this is the whole of what we need from it, in the open: the child's
/// signal dispositions reset to the defaults (this process ignores SIGINT, SIGTERM and SIGHUP
/// while a command runs, and a child must not inherit that), an empty signal mask, every
/// descriptor but its three streams closed (where glibc has `closefrom` for spawns, 2.34 on).
public struct SpawnedProcess: Sendable {
    public enum Stream: Sendable {
        /// A pipe to or from this process.
        case pipe
        /// /dev/null.
        case null
        /// This process's own.
        case inherit
    }

    public let pid: pid_t
    /// The write end of the child's stdin pipe (a descriptor), or -1.
    public let input: Int32
    /// The read ends of the child's stdout and stderr pipes (descriptors), or -1.
    public let output: Int32
    public let error: Int32
    /// True when the child leads a process group of its own: signals then reach its children too.
    public let isGroupLeader: Bool
    /// Set once the child is reaped: its pid may then belong to another process.
    private let reaped = Reaped()

    private final class Reaped: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Starts `path` (a full path) with `arguments`; `environment` nil inherits ours. With
    /// `processGroup` the child leads a new process group, and `signal` (so also cancellation)
    /// reaches everything it started: a shell's `sleep`, composer's PHP, which would otherwise
    /// outlive it and hold its output pipes open.
    public static func start(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                             directory: String? = nil, input: Stream = .null, output: Stream = .pipe,
                             error: Stream = .pipe, processGroup: Bool = false) throws(ChildProcessError) -> SpawnedProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var opened: [Int32] = []
        func fail(_ reason: String) -> ChildProcessError {
            for fd in opened { close(fd) }
            return ChildProcessError(command: path, reason: reason)
        }
        // For each stream: the end the child gets (dup2'd onto 0/1/2) and the end we keep.
        var ours: [Int32] = [-1, -1, -1]
        for (target, stream) in [input, output, error].enumerated() {
            switch stream {
            case .inherit:
                continue
            case .null:
                posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .pipe:
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else { throw fail("could not create a pipe: \(String(cString: strerror(errno)))") }
                opened += ends
                // Other children started meanwhile close it anyway (closefrom below).
                for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
                let (childEnd, ourEnd) = target == 0 ? (ends[0], ends[1]) : (ends[1], ends[0])
                posix_spawn_file_actions_adddup2(&actions, childEnd, Int32(target))
                ours[target] = ourEnd
            }
        }
        // Without closefrom (glibc < 2.34) descriptors opened without close-on-exec elsewhere in
        // this process would reach the child; ours all have it.
        if let closeFrom = Self.addCloseFrom, closeFrom(&actions, 3) != 0 { throw fail("could not prepare the child's descriptors") }
        if let directory {
            guard let addChdir = Self.addChdir else { throw fail("cannot start a child in another directory on this system") }
            guard addChdir(&actions, directory) == 0 else { throw fail("cannot start a child in \(directory)") }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (processGroup ? POSIX_SPAWN_SETPGROUP : 0)
        for code in [posix_spawnattr_setsigdefault(&attributes, &all), posix_spawnattr_setsigmask(&attributes, &none),
                     posix_spawnattr_setpgroup(&attributes, 0), posix_spawnattr_setflags(&attributes, Int16(flags))] where code != 0 {
            throw fail("could not prepare the child's signals: \(String(cString: strerror(code)))")
        }

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp ?? [] { free(pointer) }
        }
        var pid: pid_t = 0
        let code: Int32 = if let envp {
            posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        } else {
            posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        }
        guard code == 0 else { throw fail("could not start: \(String(cString: strerror(code)))") }
        // The child has its ends now; ours stay.
        for fd in opened where !ours.contains(fd) { close(fd) }
        return SpawnedProcess(pid: pid, input: ours[0], output: ours[1], error: ours[2], isGroupLeader: processGroup)
    }

    /// Waits for the child to end: its exit status, or 128 + the signal that ended it.
    /// Cancelling the calling task stops the child (SIGTERM, SIGKILL 2 s later), reaps it and
    /// then throws `CancellationError`.
    public func wait() async throws -> Int32 {
        let pid = pid, reaped = reaped, child = self
        let status = await withTaskCancellationHandler {
            await Blocking.run { _ in
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 {
                    if errno != EINTR { break }
                }
                reaped.value.store(true, ordering: .releasing)
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
        } onCancel: {
            child.signal(SIGTERM)
            Thread.detachNewThread {
                sleep(2)
                child.signal(SIGKILL)
            }
        }
        try Task.checkCancellation()
        return status
    }

    /// Sends `signal` to the child, unless it was already reaped (its pid may be another's now).
    public func signal(_ signal: Int32) {
        guard !reaped.value.load(ordering: .acquiring) else { return }
        kill(isGroupLeader ? -pid : pid, signal)
    }

    /// Reads `fd` to its end on a thread of its own, then closes it.
    public static func readAll(_ fd: Int32) async -> [UInt8] {
        guard fd >= 0 else { return [] }
        return await Blocking.run { _ in
            defer { close(fd) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return bytes }
                bytes.append(contentsOf: buffer[0..<count])
            }
        }
    }

    // glibc's posix_spawn extensions, which Swift's Glibc module does not declare.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    private static let addChdir: AddChdir? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
}
