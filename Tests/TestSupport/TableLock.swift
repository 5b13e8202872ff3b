import Foundation
import Host

/// A `LOCK TABLES ... WRITE` held by a mariadb client session of the test's own, for making a
/// statement of the code under test wait at a known point (a COUNT(*) in verification, an
/// ALTER TABLE building indexes) so a signal reaches it there.
public final class TableLock: @unchecked Sendable {
    // Unchecked: the process and its pipes are touched by the test task only.
    private let process = Process()
    private let input = Pipe()

    /// Locks `database`.`table` for writing and returns once the server granted it.
    public init(_ database: TestDatabase, schema: String, table: String) async throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mariadb")
        process.arguments = ["--socket=\(database.socket)", "-uroot", "--batch", "--skip-column-names", "--unbuffered"]
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try ChildProcess.spawn(process)
        input.fileHandleForWriting.write(Data("LOCK TABLES `\(schema)`.`\(table)` WRITE;\nSELECT 'locked';\n".utf8))
        // A blocking read: on a thread of its own, never on the cooperative pool (Task.detached is on it).
        let granted = await Blocking.run { _ -> Bool in
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("locked") {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return false }
                seen.append(chunk)
            }
            return true
        }
        guard granted else { throw TestDatabaseError(message: "LOCK TABLES \(schema).\(table) was not granted") }
    }

    /// Ends the session (the server releases the lock), waiting for the client off the
    /// cooperative pool.
    public func release() async {
        try? input.fileHandleForWriting.close()
        let process = UncheckedProcess(process: process)
        await Blocking.run { _ in process.process.waitUntilExit() }
    }
}

/// The client process handed to the thread that waits for it (Process is not Sendable).
private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
}
