@testable import DumpImport
import Foundation
import MySQL
import Testing
import TestSupport

@Suite struct LoaderRetryTests {
    /// A loader's INSERT that waits on another transaction's lock past the lock timeout is
    /// retried (InnoDB rolled it back whole), and lands once the lock is gone.
    @Test func aLockTimeoutIsRetriedUntilTheRowLands() async throws {
        let database = try await TestDatabase.shared()
        let name = "retry_" + UUID().uuidString.prefix(8).lowercased()
        let endpoint = MySQLEndpoint(host: "127.0.0.1", port: database.port, user: TestDatabase.user,
                                     password: TestDatabase.password)
        let holder = try MySQLConnection(endpoint)
        try holder.query("CREATE DATABASE `\(name)`")
        try holder.query("CREATE TABLE `\(name)`.t (id INT PRIMARY KEY, note VARCHAR(20))")
        try holder.query("BEGIN")
        try holder.query("INSERT INTO `\(name)`.t VALUES (1, 'held')")

        let loader = try MySQLConnection(endpoint)
        try loader.query("SET SESSION innodb_lock_wait_timeout = 1")
        let started = ContinuousClock.now
        // The holder lets go after about 1.5 s, i.e. after the loader's first attempt timed out.
        // Blocking calls run on threads of their own, never on the (busy) cooperative pool.
        let held = ConnectionBox(holder)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 1.5)
            _ = try? held.connection.query("ROLLBACK")
        }
        let waiting = ConnectionBox(loader)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try LoaderPool.insert(Array("INSERT INTO `\(name)`.t VALUES (1, 'loaded')".utf8), on: waiting.connection)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        #expect(ContinuousClock.now - started > .seconds(1))
        #expect(try loader.query("SELECT note FROM `\(name)`.t").rows == [["loaded"]])

        let other = try MySQLConnection(endpoint)
        // Other errors are not retried.
        let other2 = ContinuousClock.now
        let unknown = #expect(throws: MySQLError.self) { try LoaderPool.insert(Array("INSERT INTO `\(name)`.missing VALUES (1)".utf8), on: other) }
        #expect(unknown?.code == 1146)
        #expect(ContinuousClock.now - other2 < .seconds(1))
        try other.query("DROP DATABASE `\(name)`")
    }
}
