import Foundation

/// How a command reports: human text, or exactly one JSON document on stdout for scripts.
public enum OutputFormat: String, Sendable {
    case text
    case json
}

/// Where a command's output goes. Results go to stdout; progress, notes and warnings to stderr,
/// so `--json` output and pipes carry nothing but the result.
public struct Console: Sendable {
    public let out: TextOutput
    public let err: TextOutput
    public let format: OutputFormat
    /// Colour for stdout and for stderr are decided separately: either may be a pipe.
    public let outColors: ColorPolicy
    public let errColors: ColorPolicy

    public init(out: TextOutput, err: TextOutput, format: OutputFormat, environment: [String: String]) {
        self.out = out
        self.err = err
        self.format = format
        outColors = ColorPolicy(environment: environment, isInteractive: out.isInteractive)
        errColors = ColorPolicy(environment: environment, isInteractive: err.isInteractive)
    }

    /// The process's own stdout and stderr.
    public static func standard(format: OutputFormat = .text,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> Console {
        Console(out: FileDescriptorOutput.standardOutput, err: FileDescriptorOutput.standardError,
                format: format, environment: environment)
    }

    public var isJSON: Bool { format == .json }

    /// A line of result text on stdout (suppressed in JSON mode, where `emit` speaks).
    public func print(_ line: String = "") {
        guard !isJSON else { return }
        out.write(line + "\n")
    }

    /// A line of commentary on stderr. Notes, warnings and errors carry values taken from input
    /// (file names, a dump's statements, a server's words): control characters in them are
    /// escaped, so nothing they hold can drive the terminal.
    public func note(_ line: String) { err.write(Printable.escaping(line, singleLine: false) + "\n") }

    public func warning(_ line: String) {
        err.write(Style.yellow.apply("warning:", errColors) + " " + Printable.escaping(line, singleLine: false) + "\n")
    }

    public func error(_ line: String) {
        err.write(Style.red.apply("error:", errColors) + " " + Printable.escaping(line, singleLine: false) + "\n")
    }

    /// Writes `value` as the one JSON document on stdout.
    public func emit<Value: Encodable>(_ value: Value) throws {
        out.write(try JSONDocument.encode(value) + "\n")
    }

    /// The command's result: `value` as the JSON document under `--json`, else `text` on stdout.
    public func present<Value: Encodable>(_ value: Value, text: (ColorPolicy) -> String) throws {
        if isJSON {
            try emit(value)
        } else {
            print(text(outColors))
        }
    }

    public func progress(_ label: String, total: Int64?, unit: ProgressUnit = .bytes) -> ProgressBar {
        ProgressBar(label: label, total: total, unit: unit, output: err)
    }

    public func styled(_ text: String, _ style: Style) -> String { style.apply(text, outColors) }
}

/// The `--json` convention: pretty-printed, keys sorted (stable diffs), dates in ISO 8601.
public enum JSONDocument {
    public static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
