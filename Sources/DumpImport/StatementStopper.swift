import Host
import MySQL

/// Stops what a connection is running on the server when a load is cancelled. Closing our end
/// is not enough: the server would go on building an index or counting rows, holding locks
/// the clean-up then waits for. So a side connection asks the server to end it.
enum StatementStopper {
    enum Scope {
        /// `KILL QUERY`: the statement ends, the connection (and the locks it holds) stay.
        case statement
        /// `KILL CONNECTION`: for connections used only by the load.
        case connection
    }

    /// When `cancel` is set, ends `connection`'s work on the server (asked through a new
    /// connection to `endpoint`), then shuts our end so a blocked read returns at once.
    @discardableResult
    static func stopOnCancel(_ connection: MySQLConnection, endpoint: MySQLEndpoint, cancel: CancelFlag,
                             scope: Scope = .connection) -> CancelFlag.Registration {
        let box = ConnectionBox(connection)
        let id = connection.connectionID
        return cancel.onCancel {
            stop(id, endpoint: endpoint, scope: scope)
            if case .connection = scope { box.connection.interrupt() }
        }
    }

    static func stop(_ id: UInt32, endpoint: MySQLEndpoint, scope: Scope) {
        var side = endpoint
        side.database = nil
        guard let connection = try? MySQLConnection(side, timeout: 3) else { return }
        _ = try? connection.query(scope == .statement ? "KILL QUERY \(id)" : "KILL CONNECTION \(id)")
    }
}
