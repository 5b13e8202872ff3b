import Foundation
import MySQL
import Testing
import TestSupport

@Suite struct MySQLConnectionTests {
    func endpoint(_ database: TestDatabase, _ name: String? = nil, password: String = TestDatabase.password) -> MySQLEndpoint {
        MySQLEndpoint(host: "127.0.0.1", port: database.port, user: TestDatabase.user, password: password, database: name)
    }

    @Test func connectsQueriesAndReadsRows() async throws {
        let database = try await TestDatabase.shared()
        let connection = try MySQLConnection(endpoint(database))
        #expect(connection.serverVersion.contains("MariaDB"))
        let result = try connection.query("SELECT 1 AS one, NULL AS nothing, 'héllo' AS word UNION ALL SELECT 2, 'x', ''")
        #expect(result.columns == ["one", "nothing", "word"])
        #expect(result.rows == [["1", nil, "héllo"], ["2", "x", ""]])
        try connection.query("CREATE DATABASE IF NOT EXISTS mysql_client_test")
        try connection.query("CREATE TABLE IF NOT EXISTS mysql_client_test.t (id INT PRIMARY KEY, body LONGBLOB)")
        try connection.query("DELETE FROM mysql_client_test.t")
        let inserted = try connection.query("INSERT INTO mysql_client_test.t VALUES (1, 'a'), (2, 'b')")
        #expect(inserted.affectedRows == 2)
    }

    /// Statements of 16 MiB and more span several protocol packets, both ways.
    @Test func largeStatementsAndValuesCrossPacketBoundaries() async throws {
        let database = try await TestDatabase.shared()
        let connection = try MySQLConnection(endpoint(database))
        try connection.query("CREATE DATABASE IF NOT EXISTS mysql_client_big")
        try connection.query("CREATE TABLE IF NOT EXISTS mysql_client_big.t (id INT PRIMARY KEY, body LONGBLOB)")
        try connection.query("DELETE FROM mysql_client_big.t")
        for size in [0xFF_FFFF - 40, 0xFF_FFFF * 2 + 123] {
            let body = String(repeating: "x", count: size)
            try connection.query("REPLACE INTO mysql_client_big.t VALUES (\(size), '\(body)')")
            let read = try connection.query("SELECT LENGTH(body), body FROM mysql_client_big.t WHERE id = \(size)")
            #expect(read.rows.first?.first == String(size))
            #expect(read.rows.first?.last??.count == size)
        }
    }

    @Test func errorsCarryTheServersCodeStateAndMessage() async throws {
        let database = try await TestDatabase.shared()
        let connection = try MySQLConnection(endpoint(database))
        let syntax = #expect(throws: MySQLError.self) { try connection.query("SELEKT 1") }
        #expect(syntax?.kind == .server && syntax?.code == 1064 && syntax?.sqlState == "42000")
        // The connection is still usable after an error.
        #expect(try connection.query("SELECT 2").rows == [["2"]])

        let denied = #expect(throws: MySQLError.self) { try MySQLConnection(endpoint(database, password: "wrong")) }
        #expect(denied?.code == 1045)
        #expect(denied?.description.contains("wrong") == false)

        let refused = #expect(throws: MySQLError.self) {
            try MySQLConnection(MySQLEndpoint(host: "127.0.0.1", port: freePort(), user: "x", password: "y"))
        }
        #expect(refused?.kind == .connection)
        #expect(refused?.message.hasPrefix("cannot connect to 127.0.0.1:") == true)

        let unknown = #expect(throws: MySQLError.self) { try MySQLConnection(endpoint(database, "no_such_db")) }
        #expect(unknown?.code == 1049)
    }

    @Test func quotingRoundTrips() async throws {
        let database = try await TestDatabase.shared()
        let connection = try MySQLConnection(endpoint(database))
        let nasty = "it's \\ \"quoted\"\n\r\u{1A} 💥"
        #expect(try connection.query("SELECT \(MySQLConnection.quote(nasty))").rows == [[nasty]])
        #expect(MySQLConnection.identifier("we`ird") == "`we``ird`")
    }
}
