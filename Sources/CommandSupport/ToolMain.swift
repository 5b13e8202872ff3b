import ArgumentParser
import Foundation
import Host
import Terminal

/// Runs a root command the way both tools promise in `--help`: exit 0 on success, 1 when the
/// operation failed, 2 for usage errors (ArgumentParser's own default is 64), 128 + the signal's
/// number when SIGINT, SIGTERM or SIGHUP stopped it (130 for Ctrl-C, as shells expect), or a
/// code the command chose by throwing `ExitCode`. Failures print one "error: ..." paragraph on
/// stderr and, under `--json`, an `{"error": {...}}` document on stdout.
///
/// The command runs as a task that those signals cancel (see `SignalCancellation`): every
/// command stops the same way, through Swift's task cancellation, and cleans up on its way out.
public enum ToolMain {
    public static func run<Root: AsyncParsableCommand>(_ root: Root.Type,
                                                       arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        let command: any ParsableCommand
        do {
            command = try root.parseAsRoot(arguments)
        } catch {
            // Help and version are successes ArgumentParser prints itself; the rest is usage.
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            FileDescriptorOutput.standardError.write(root.fullMessage(for: error) + "\n")
            exit(2)
        }
        let json = (command as? ReportsJSON)?.output.json ?? false
        // A closed pipe (`devbox status | head`) is an error to handle where it happens, not a death.
        signal(SIGPIPE, SIG_IGN)
        let signals = SignalCancellation.install()
        let parsed = Handover(command)
        let task = Task {
            var command = parsed.value
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        }
        signals.whenSignalled { task.cancel() }
        let outcome = await task.result
        let signalled = signals.received
        switch outcome {
        case .success:
            exit(0)
        case .failure(let code as ExitCode):
            // A command that reports its own interruption exits 130, Ctrl-C's status; the signal that came decides.
            if code.rawValue == 128 + SIGINT, let signalled { exit(128 + signalled) }
            exit(code.rawValue)
        case .failure(let error):
            // `--help` parses as ArgumentParser's own help command, whose run() throws the
            // request: a success it prints itself (as are version requests and CleanExit).
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            if error is CancellationError {
                FileDescriptorOutput.standardError.write("Interrupted.\n")
                // A script reading --json gets its one document on every way out, a signal included.
                if json { emitFailure(message: "Interrupted.", type: "Interrupted") }
            } else if root.exitCode(for: error) == .validationFailure {
                // Thrown by run() (a flag the situation needs, e.g. --yes without a terminal): the
                // sentence says what to add; the root's usage line would only mislead.
                let text = (error as? ValidationError).map { "Error: \($0.message)" } ?? root.fullMessage(for: error)
                FileDescriptorOutput.standardError.write(text + "\n")
                if json { emitFailure(message: (error as? ValidationError)?.message ?? text, type: "ValidationError") }
                exit(2)
            } else {
                report(error, json: json)
            }
            if let signalled { exit(128 + signalled) }
            exit(error is CancellationError ? 128 + SIGINT : 1)
        }
    }

    /// Prints a failure as every command does (stderr, and the JSON document under `--json`), for
    /// commands that exit with a code of their own after it.
    public static func report(_ error: any Error, json: Bool) {
        let console = Console.standard(format: json ? .json : .text)
        let message = String(describing: error)
        console.error(message)
        if json {
            emitFailure(message: message, type: (error as? any NamedErrorType)?.typeName ?? String(describing: type(of: error)))
        }
    }

    /// The `{"error": {"message", "type"}}` document on stdout.
    static func emitFailure(message: String, type: String) {
        struct Failure: Encodable {
            struct Detail: Encodable { var message: String; var type: String }
            var error: Detail
        }
        try? Console.standard(format: .json).emit(Failure(error: .init(message: message, type: type)))
    }
}

/// Moves the parsed command into the task that runs it; nothing else touches it afterwards.
private struct Handover: @unchecked Sendable {
    let value: any ParsableCommand
    init(_ value: any ParsableCommand) { self.value = value }
}

/// A command whose results can be one JSON document: `ToolMain` then reports failures as JSON
/// too. Commands declare it by having `@OptionGroup var output: OutputOptions`.
public protocol ReportsJSON {
    var output: OutputOptions { get }
}

/// `--json`, shared by every command that reports state or results.
public struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout instead of text (stable field names, for scripts).")
    public var json = false

    public init() {}

    public var console: Console { Console.standard(format: json ? .json : .text) }
}
