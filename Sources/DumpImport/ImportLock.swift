import MySQL

/// One import or restore at a time per target database: a `GET_LOCK` held by the control
/// connection for the whole run. The server releases it when that connection ends, so a
/// killed devbox never leaves the database locked.
enum ImportLock {
    static func acquire(_ names: ImportNames, on connection: MySQLConnection, display: String) throws {
        let name = MySQLConnection.quote(names.lock)
        let got = try connection.query("SELECT GET_LOCK(\(name), 0)").rows.first?.first ?? nil
        guard got == "1" else { throw busy(names, on: connection, display: display) }
    }

    static func release(_ names: ImportNames, on connection: MySQLConnection) {
        _ = try? connection.query("SELECT RELEASE_LOCK(\(MySQLConnection.quote(names.lock)))")
    }

    /// Who holds the lock, as far as the server tells.
    static func busy(_ names: ImportNames, on connection: MySQLConnection, display: String) -> ImportError {
        var holder = "another connection"
        if let id = (try? connection.query("SELECT IS_USED_LOCK(\(MySQLConnection.quote(names.lock)))"))?.rows.first?.first ?? nil,
           let row = (try? connection.query("SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = \(id)"))?.rows.first {
            holder = "connection \(id) (\(row[0] ?? "?")@\(row[1] ?? "?"), for \(row[2] ?? "?") s)"
        }
        return ImportError(.busy, "another sync-db or restore is replacing \(names.database) right now: \(holder) holds its lock. "
            + "Wait for it to finish and run this again.", databaseUnchanged: display)
    }
}
