import Foundation
import HTTP
import Testing

/// The Python test server in Fixtures/, started once per test process on loopback.
/// It exits when our end of its stdin closes, i.e. when the test process ends.
final class TestServer: Sendable {
    struct Info: Decodable {
        var port: Int
        var unix: String
        var tlsPort: Int
        var caBundle: String
        var blackholePort: Int
    }

    let info: Info
    private let process: Process
    private let stdin: Pipe

    static let shared: TestServer = {
        do { return try TestServer() } catch { fatalError("cannot start the test server: \(error)") }
    }()

    private init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/testserver.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while let byte = try stdout.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        info = try JSONDecoder().decode(Info.self, from: line)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(info.port)\(path)" }
    func tlsURL(_ path: String) -> String { "https://127.0.0.1:\(info.tlsPort)\(path)" }
}

/// The byte at `offset` of the server's /bytes/N pattern (see testserver.py).
enum Pattern {
    static let period = 1_000_003
    static let block: [UInt8] = (0..<period).map { UInt8(truncatingIfNeeded: (UInt64($0) &* 2654435761) >> 13) }

    /// An opaque answer so a failing `#expect` does not print megabytes of bytes.
    struct Verdict: CustomTestStringConvertible, Equatable {
        var firstMismatch: Int?
        var testDescription: String { firstMismatch.map { "mismatch at byte \($0)" } ?? "matches" }
    }

    static func check(_ bytes: [UInt8], from offset: Int = 0) -> Verdict {
        for (index, byte) in bytes.enumerated() where block[(offset + index) % period] != byte {
            return Verdict(firstMismatch: index)
        }
        return Verdict(firstMismatch: nil)
    }
}

/// A fresh temporary directory, removed by the caller with `remove()`.
struct TemporaryDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "http-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Where `swift build` put the package's executables: beside the test bundle.
enum BuildProducts {
    static var directory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }
    static func executable(_ name: String) -> URL { directory.appendingPathComponent(name) }
}
