import Crypto
import Foundation
import Host
import MySQL

/// The control side of one import: a privileged connection to the target's server that holds
/// the target's lock, creates and drops the shadow, verifies and swaps; and a temporary user that
/// can touch only the shadow, for the loader connections, so no statement of the dump can reach
/// another database even if classification missed it.
///
/// Unchecked Sendable: one import uses it, one step at a time (each `Blocking.run` is awaited
/// before the next), so its connection is only ever used by one thread at once.
final class ImportSession: @unchecked Sendable {
    let target: DatabaseURL
    let names: ImportNames
    let control: MySQLConnection
    /// The temporary user's endpoint; the target's own when the server would not create one.
    private(set) var loaderEndpoint: MySQLEndpoint
    /// The loaders can touch only the shadow (the server let us create their user).
    var loadersConfined: Bool { temporaryUser != nil }
    private var temporaryUser: String?

    private init(target: DatabaseURL, names: ImportNames, control: MySQLConnection) {
        self.target = target
        self.names = names
        self.control = control
        loaderEndpoint = target.endpoint
    }

    /// Connects and takes the target's lock (refusing when another import holds it).
    static func open(_ target: DatabaseURL, names: ImportNames) async throws -> ImportSession {
        try await Blocking.run { _ in
            let control = try connect(target)
            let session = ImportSession(target: target, names: names, control: control)
            try ImportLock.acquire(names, on: control, display: target.display)
            return session
        }
    }

    static func connect(_ target: DatabaseURL) throws -> MySQLConnection {
        do {
            return try MySQLConnection(target.endpoint)
        } catch where error.kind == .server && error.code == 1045 {
            throw ImportError(.accessDenied, "the database at \(target.display) refused the user and password: \(error.message)",
                              databaseUnchanged: target.display)
        } catch where error.kind == .server {
            throw ImportError(.connection, "the database at \(target.display) refused the connection: \(error)",
                              databaseUnchanged: target.display)
        } catch {
            throw ImportError(.connection, "cannot connect to the database at \(target.endpoint.host):\(target.endpoint.port): "
                + "\(error.message)", databaseUnchanged: target.display)
        }
    }

    /// Runs `body` with the control connection on a thread of its own; cancellation stops the
    /// statement running on the server (`KILL QUERY`), keeping the connection and its lock.
    func run<T: Sendable>(_ body: @escaping @Sendable (MySQLConnection, CancelFlag) throws -> T) async throws -> T {
        try await Blocking.run { [self] cancel in
            let stopper = StatementStopper.stopOnCancel(control, endpoint: target.endpoint, cancel: cancel, scope: .statement)
            defer { stopper.end() }
            return try body(control, cancel)
        }
    }

    /// An empty shadow database, and the temporary user that may use only it.
    func prepareShadow() async throws {
        let shadow = MySQLConnection.identifier(names.shadow)
        let user = try await run { [self] control, cancel in
            try control.query("DROP DATABASE IF EXISTS \(shadow)")
            try cancel.check()
            try control.query("CREATE DATABASE \(shadow) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            return createLoaderUser(on: control)
        }
        if let user {
            temporaryUser = user.name
            loaderEndpoint = MySQLEndpoint(host: target.endpoint.host, port: target.endpoint.port, user: user.name,
                                           password: user.password)
        }
    }

    /// The target's loader user (`ImportNames.loaderUser`, dropped first if a killed run left
    /// it) with a random password and every privilege on the shadow only; nil when the server
    /// does not let us (then the loaders use the target's user).
    private func createLoaderUser(on control: MySQLConnection) -> (name: String, password: String)? {
        var random = SystemRandomNumberGenerator()
        let name = names.loaderUser
        let password = Hex.encode((0..<24).map { _ in UInt8.random(in: 0...255, using: &random) })
        let account = "\(MySQLConnection.quote(name))@'%'"
        do {
            try control.query("DROP USER IF EXISTS \(account)")
            try control.query("CREATE USER \(account) IDENTIFIED BY \(MySQLConnection.quote(password))")
            // Escaped, the grant covers the shadow alone (`_` and `%` are wildcards in it).
            try control.query("GRANT ALL PRIVILEGES ON \(MySQLConnection.identifier(ImportNames.literalPattern(names.shadow))).* TO \(account)")
            return (name, password)
        } catch {
            _ = try? control.query("DROP USER IF EXISTS \(account)")
            return nil
        }
    }

    /// Row counts per table, the set of tables, then the sanitising rules; returns the rules applied.
    func verify(_ loaded: LoadResult, sanitize rules: [SanitizeRule]) async throws -> [String] {
        let shadow = names.shadow
        return try await run { control, cancel in
            let q = MySQLConnection.identifier
            let present = Set(try control.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                                + "\(MySQLConnection.quote(shadow)) AND TABLE_TYPE = 'BASE TABLE'").rows.compactMap { $0.first ?? nil })
            let expected = Set(loaded.tables)
            guard present == expected else {
                let missing = expected.subtracting(present).sorted(), extra = present.subtracting(expected).sorted()
                throw ImportError(.verification, "verification failed: the dump creates \(expected.count) tables but the import "
                    + "holds \(present.count)" + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))")
                    + (extra.isEmpty ? "" : "; unexpected: \(extra.joined(separator: ", "))"))
            }
            for table in loaded.tables {
                try cancel.check()
                let counted = try control.query("SELECT COUNT(*) FROM \(q(shadow)).\(q(table))").rows.first?.first??.description ?? "0"
                let rows = loaded.rows[table] ?? 0
                guard Int(counted) == rows else {
                    throw ImportError(.verification, "verification failed: table `\(table)` has \(counted) rows after the import, "
                        + "but the dump holds \(rows)")
                }
            }
            return try rules.map { rule in
                try cancel.check()
                do {
                    try control.query(rule.statement(in: shadow))
                } catch {
                    throw ImportError(.usage, "the sanitize rule for \(rule.table).\(rule.column) failed: \(error). Fix it in config.toml")
                }
                return "\(rule.table).\(rule.column): \(rule.action.rawValue)"
            }
        }
    }

    /// The swap and the pruning, which no signal interrupts: stopping half-way would be worse
    /// than finishing (each step has its undo on failure, not on a whim).
    func swap(_ loaded: LoadResult, keep: Int) async throws -> (snapshot: String?, pruned: [String], discarded: Bool) {
        let objects = loaded.objects.map(DumpObjects.withoutDefiner)
        let names = names, display = target.display
        return try await runToTheEnd { control in
            let swap = DatabaseSwap(connection: control, names: names)
            let snapshot: String?
            do {
                snapshot = try swap.swapIn(from: names.shadow, newObjects: objects)
            } catch let failure as SwapFailure {
                throw failure.importError("the swap", target: display)
            }
            let pruned = (try? swap.prune(keep: keep)) ?? []
            // With keep 0 the snapshot just made goes too: then none was kept, and it is no older one.
            guard let snapshot, pruned.contains(snapshot) else { return (snapshot, pruned, false) }
            return (nil, pruned.filter { $0 != snapshot }, true)
        }
    }

    /// The swap waits at most 30 s for a lock (an open transaction of the app on a table), not
    /// the server's default of a year.
    static func boundLockWaits(_ connection: MySQLConnection) throws {
        try connection.query("SET SESSION lock_wait_timeout = 30")
    }

    /// Runs `body` with the control connection where no signal stops it: the swap and the
    /// restore, which stopping half-way would leave worse than finishing.
    func runToTheEnd<T: Sendable>(_ body: @escaping @Sendable (MySQLConnection) throws -> T) async throws -> T {
        let control = ConnectionBox(control)
        return try await Blocking.run { _ in
            try Self.boundLockWaits(control.connection)
            return try CriticalSection.run { try body(control.connection) }
        }
    }

    /// Drops the shadow, whatever happened (also after cancellation).
    func dropShadow() async {
        let shadow = MySQLConnection.identifier(names.shadow), control = ConnectionBox(control)
        _ = await Blocking.run { _ in Self.retryingAfterAKill(control.connection, "DROP DATABASE IF EXISTS \(shadow)") }
    }

    /// Drops the temporary user and releases the lock (the server would on disconnect anyway).
    func close() async {
        await Blocking.run { [self] _ in
            if let temporaryUser { Self.retryingAfterAKill(control, "DROP USER IF EXISTS \(MySQLConnection.quote(temporaryUser))@'%'") }
            ImportLock.release(names, on: control)
        }
    }

    /// A cancellation's `KILL QUERY` may arrive late and hit the clean-up that follows it
    /// (error 1317, "Query execution was interrupted"): one more try then.
    @discardableResult
    static func retryingAfterAKill(_ connection: MySQLConnection, _ sql: String) -> Bool {
        for _ in 0..<2 {
            do {
                try connection.query(sql)
                return true
            } catch where error.code == 1317 {
                continue
            } catch {
                return false
            }
        }
        return false
    }
}
