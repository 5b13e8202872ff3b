import ArgumentParser
import Foundation
import Terminal

/// Runs a root command the way both tools promise in `--help`: exit 0 on success, 1 when the
/// operation failed, 2 for usage errors (ArgumentParser's own default is 64), or a code the
/// command chose by throwing `ExitCode`. Failures print one "error: ..." paragraph on stderr
/// and, under `--json`, an `{"error": {...}}` document on stdout.
public enum ToolMain {
    public static func run<Root: AsyncParsableCommand>(_ root: Root.Type,
                                                       arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        let wantsJSON = arguments.contains("--json")
        do {
            var command = try root.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch is CancellationError {
            FileDescriptorOutput.standardError.write("Interrupted.\n")
            exit(130)
        } catch {
            let code = root.exitCode(for: error)
            if code == .validationFailure {
                FileDescriptorOutput.standardError.write(root.fullMessage(for: error) + "\n")
                exit(2)
            }
            if isArgumentParserOutcome(error) { root.exit(withError: error) }
            report(error, json: wantsJSON)
            exit(1)
        }
    }

    /// Help, version and usage outcomes that ArgumentParser prints itself.
    static func isArgumentParserOutcome(_ error: any Error) -> Bool {
        let name = String(reflecting: type(of: error))
        return name.hasPrefix("ArgumentParser.")
    }

    static func report(_ error: any Error, json: Bool) {
        let console = Console.standard(format: json ? .json : .text)
        let message = String(describing: error)
        console.error(message)
        if json {
            struct Failure: Encodable {
                struct Detail: Encodable { var message: String; var type: String }
                var error: Detail
            }
            try? console.emit(Failure(error: .init(message: message, type: String(describing: type(of: error)))))
        }
    }
}

/// `--json`, shared by every command that reports state or results.
public struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout instead of text (stable field names, for scripts).")
    public var json = false

    public init() {}

    public var console: Console { Console.standard(format: json ? .json : .text) }
}
