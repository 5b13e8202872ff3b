import Foundation
import Host

/// A Python fixture server: started with `python3 SCRIPT ARGS`, it prints one JSON line with its
/// ports, and exits when our end of its stdin closes (with the test process at the latest).
public final class PythonServer: Sendable {
    public let info: [String: String]
    /// The JSON line the script printed, as it came.
    public let line: Data
    private let process: Process
    private let stdin: Pipe

    public var port: Int { Int(info["port"] ?? "") ?? 0 }
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Starts the script on a thread of its own (its start blocks on the first line).
    /// `firstLine`, when given, is written to the script's stdin first: how secrets reach it (never argv).
    public static func start(_ script: String, _ arguments: [String] = [], firstLine: String? = nil) async throws -> PythonServer {
        try await Blocking.run { _ in try PythonServer(script: script, arguments: arguments, firstLine: firstLine) }
    }

    private init(script: String, arguments: [String], firstLine: String?) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try ChildProcess.spawn(process)
        if let firstLine { try stdin.fileHandleForWriting.write(contentsOf: Data((firstLine + "\n").utf8)) }
        var line = Data()
        while let byte = try stdout.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        self.line = line
        let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] ?? [:]
        info = object.mapValues { "\($0)" }
    }

    /// Stops the server now (closing its stdin).
    public func stop() {
        try? stdin.fileHandleForWriting.close()
    }
}
