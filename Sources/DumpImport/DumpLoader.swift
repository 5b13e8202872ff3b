import Archive
import Foundation
import Host
import MySQL

/// What loading a dump into the shadow database produced.
public struct LoadResult: Sendable {
    /// Rows per table as counted in the dump's INSERT statements.
    public var rows: [String: Int] = [:]
    /// Tables created, in dump order.
    public var tables: [String] = []
    /// Views, triggers and routines (with the session statements around them), in dump order,
    /// to create in the real database after the swap.
    public var objects: [String] = []
    /// Collations replaced because the server lacks them.
    public var collations: [String: String] = [:]
    public var statements = 0
    /// Uncompressed SQL read.
    public var bytes: Int64 = 0
    public var indexSeconds = 0.0
    /// Scheduled events in the dump, not created (see `DumpStatementKind.event`).
    public var eventsSkipped = 0
    /// The SQL ended with the `-- Dump completed` line mysqldump and mariadb-dump write last.
    public var endsWithCompletionMark = false
}

/// How far a load has come, for the progress line.
public struct LoadProgress: Sendable {
    /// Compressed bytes read from the source.
    public var consumed: Int64
    /// SQL bytes decompressed.
    public var produced: Int64
    public var rowsQueued: Int
}

/// The load's tuning.
public struct LoadOptions: Sendable {
    /// Loader connections working in parallel.
    public var connections: Int
    /// Build secondary indexes and foreign keys after the rows are in (one sorted build per
    /// index). Off by default: measured on Benchmarks/sync-db's dump (rows in primary-key
    /// order, as mysqldump writes them) the rebuild cost more than it saved (5.8 s against
    /// 6.5-7.0 s for 265 MB); it pays for big tables whose secondary keys arrive in random order.
    public var deferIndexes = false
    /// INSERT bytes in flight between the reader and the loaders.
    public var queueBytes = 8 << 20

    public init(connections: Int = max(2, ProcessInfo.processInfo.activeProcessorCount), deferIndexes: Bool = false) {
        self.connections = connections
        self.deferIndexes = deferIndexes
    }
}

/// Loads a SQL dump, read as a stream through libarchive (any compression, tar or zip of
/// several `.sql` files, or plain SQL), into an (empty) database: DDL in order on one
/// connection, row data spread over several connections as myloader does, secondary indexes
/// optionally built at the end. Blocking: run it with `Blocking.run`; cancelling the flag
/// stops the statements running on the server (`KILL QUERY`) and the load with them.
final class DumpLoader {
    let endpoint: MySQLEndpoint
    let options: LoadOptions
    let cancel: CancelFlag
    let progress: (LoadProgress) -> Void

    init(endpoint: MySQLEndpoint, database: String, options: LoadOptions, cancel: CancelFlag,
         progress: @escaping (LoadProgress) -> Void) {
        var endpoint = endpoint
        endpoint.database = database
        self.endpoint = endpoint
        self.options = options
        self.cancel = cancel
        self.progress = progress
    }

    /// Session settings for bulk loading: no constraint checks (the dump is consistent), no
    /// binary log for this session (when the user may say so), UTF-8 all the way, and the
    /// largest packet the server allows for this session, for dumps with big rows.
    static let bulkSettings = ["SET NAMES utf8mb4", "SET SESSION foreign_key_checks = 0, unique_checks = 0",
                               "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
                               // Fewer gap locks between loaders inserting into one table.
                               "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"]

    static func connect(_ endpoint: MySQLEndpoint, cancel: CancelFlag) throws -> MySQLConnection {
        let connection = try MySQLConnection(endpoint)
        for setting in bulkSettings { try connection.query(setting) }
        _ = try? connection.query("SET SESSION sql_log_bin = 0")
        StatementStopper.stopOnCancel(connection, endpoint: endpoint, cancel: cancel)
        return connection
    }

    func load(_ reader: ArchiveReader) throws -> LoadResult {
        let session = try LoadSession(loader: self, reader: reader)
        do {
            try session.readAll()
            try session.finishRows()
        } catch {
            session.abandon(error)
            if cancel.isCancelled { throw CancellationError() }
            throw error
        }
        try session.buildDeferredIndexes()
        return session.result
    }

    static func isSQL(_ path: String) -> Bool {
        let name = path.lowercased()
        return [".sql", ".sql.gz", ".sql.bz2", ".sql.xz", ".sql.zst"].contains { name.hasSuffix($0) }
    }

    /// One paragraph naming where the dump failed and what the server said.
    static func failure(_ error: any Error, line: Int, table: String?, excerpt: String) -> String {
        let place = line > 0 ? "at line \(line) of the dump" : "after the rows were loaded"
        let subject = table.map { " (table `\($0)`)" } ?? ""
        return "the import failed \(place)\(subject): \(explain(error, table: table)). Statement: \(Excerpt.of(excerpt))"
    }

    /// The server's words, with what to do where the server's own are misleading.
    static func explain(_ error: any Error, table: String?) -> String {
        guard let error = error as? MySQLError else { return "\(error)" }
        switch error.code {
        case 1062:
            return "\(error.message) — the dump holds two rows with the same key in `\(table ?? "?")`; it is not a consistent dump"
        case 1180 where error.message.contains("Operation not permitted"):
            // InnoDB reports a duplicate key found at COMMIT (unique_checks off) this way.
            return "the server refused to commit the rows of `\(table ?? "?")` (\(error.message)): the dump most likely holds "
                + "a duplicate primary or unique key in that table"
        case 1153, 2020:
            return "\(error.message) — a row is bigger than the server's max_allowed_packet; raise it on the server "
                + "(SET GLOBAL max_allowed_packet = 1073741824, or max_allowed_packet in its config) and try again"
        default:
            return "\(error)"
        }
    }
}

/// One load in progress: a method per kind of statement, the state they share, the loader
/// threads once the first rows arrive.
final class LoadSession {
    let loader: DumpLoader
    let reader: ArchiveReader
    let control: MySQLConnection
    let collations: CollationTranslator
    var result = LoadResult()
    let queue: LoadQueue
    var prelude: [[UInt8]] = []
    var workers: LoaderPool?
    var deferred: [(table: String, indexes: String?, foreignKeys: String?)] = []
    var lastReport = 0.0
    var rowsQueued = 0
    /// The last bytes of SQL, where `-- Dump completed` stands in a whole dump.
    var tail: [UInt8] = []
    /// The server's max_allowed_packet: a bigger statement would fail only after the rows before it.
    let maximumPacket: Int

    init(loader: DumpLoader, reader: ArchiveReader) throws {
        self.loader = loader
        self.reader = reader
        control = try DumpLoader.connect(loader.endpoint, cancel: loader.cancel)
        collations = CollationTranslator(available: Set(try control.query("SHOW COLLATION").rows.compactMap { $0.first ?? nil }
            .map { $0.lowercased() }))
        queue = LoadQueue(capacity: loader.options.queueBytes)
        maximumPacket = Int(try control.query("SELECT @@max_allowed_packet").rows.first?.first??.description ?? "") ?? Int.max
    }

    /// Every .sql entry of the archive (or the raw stream), statement by statement.
    func readAll() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        var sawSQL = false
        while let entry = try reader.nextEntry() {
            guard entry.isFile || reader.isRaw else { continue }
            guard reader.isRaw || DumpLoader.isSQL(entry.path) else { continue }
            sawSQL = true
            var splitter = StatementSplitter()
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                let chunk = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)
                remember(chunk)
                try splitter.feed(chunk, handle)
            }
            try splitter.finish(handle)
        }
        guard sawSQL else { throw ImportError(.dump, "the archive holds no .sql file") }
        result.bytes = reader.bytesProduced
        result.endsWithCompletionMark = String(decoding: tail, as: UTF8.self).contains("-- Dump completed")
    }

    func remember(_ chunk: UnsafeBufferPointer<UInt8>) {
        tail.append(contentsOf: chunk.suffix(256))
        if tail.count > 256 { tail.removeFirst(tail.count - 256) }
    }

    func handle(_ statement: StatementSplitter.Statement) throws {
        try loader.cancel.check()
        if let failure = queue.failure { throw failure }
        result.statements += 1
        switch DumpStatementKind.classify(statement.bytes) {
        case .insert(let table): try insert(statement, into: table)
        case .createTable(let table): try createTable(statement, table)
        case .dropTable(let table): try dropTable(statement, table)
        case .alterTable(let table): try execute(translated(statement), line: statement.line, table: table)
        case .session: session(statement)
        case .object: result.objects.append(translated(statement))
        case .ignored: break
        case .event: result.eventsSkipped += 1
        case .refused(let reason):
            throw ImportError(.dump, "the dump is refused at line \(statement.line): \(reason). Statement: "
                + Excerpt.of(String(decoding: statement.bytes.prefix(400), as: UTF8.self)))
        }
        reportProgress()
    }

    func insert(_ statement: StatementSplitter.Statement, into table: String) throws {
        guard statement.bytes.count < maximumPacket else {
            throw ImportError(.dump, "the INSERT at line \(statement.line) (table `\(table)`) is \(statement.bytes.count) bytes, more than "
                + "the server's max_allowed_packet (\(maximumPacket) bytes): raise it on the server to at least "
                + "\((statement.bytes.count >> 20) + 1) MiB (SET GLOBAL max_allowed_packet = \(((statement.bytes.count >> 20) + 1) << 20), "
                + "or max_allowed_packet in its configuration) and run sync-db again")
        }
        if workers == nil {
            workers = try LoaderPool(count: loader.options.connections, endpoint: loader.endpoint, prelude: prelude,
                                     queue: queue, cancel: loader.cancel)
        }
        let rows = DumpStatementKind.rows(in: statement)
        result.rows[table, default: 0] += rows
        rowsQueued += rows
        guard queue.push(LoadQueue.Item(table: table, statement: statement.bytes, rows: rows, line: statement.line)) else {
            throw queue.failure ?? CancellationError()
        }
    }

    func createTable(_ statement: StatementSplitter.Statement, _ table: String) throws {
        var sql = translated(statement)
        if loader.options.deferIndexes {
            let split = TableDefinition.deferringIndexes(sql, table: table)
            sql = split.create
            if split.indexes != nil || split.foreignKeys != nil { deferred.append((table, split.indexes, split.foreignKeys)) }
        }
        try execute(sql, line: statement.line, table: table)
        if !result.tables.contains(table) { result.tables.append(table) }
    }

    func dropTable(_ statement: StatementSplitter.Statement, _ table: String) throws {
        try execute(String(decoding: statement.bytes, as: UTF8.self), line: statement.line, table: table)
        deferred.removeAll { $0.table == table }
        result.tables.removeAll { $0 == table }
    }

    /// Session state for the DDL connection now, for loader connections started later, and
    /// for the objects created after the swap.
    func session(_ statement: StatementSplitter.Statement) {
        if workers == nil { prelude.append(statement.bytes) }
        result.objects.append(String(decoding: statement.bytes, as: UTF8.self))
        _ = try? control.query(statement.bytes)
    }

    /// The statement's SQL with collations the server lacks replaced (and recorded).
    func translated(_ statement: StatementSplitter.Statement) -> String {
        let (sql, changes) = collations.translate(String(decoding: statement.bytes, as: UTF8.self))
        result.collations.merge(changes) { a, _ in a }
        return sql
    }

    func execute(_ sql: String, line: Int, table: String?) throws {
        do {
            try control.query(sql)
        } catch {
            try loader.cancel.check()
            throw ImportError(.dump, DumpLoader.failure(error, line: line, table: table, excerpt: sql))
        }
    }

    func reportProgress(force: Bool = false) {
        let now = ProcessInfo.processInfo.systemUptime
        guard force || now - lastReport > 0.2 else { return }
        lastReport = now
        loader.progress(LoadProgress(consumed: reader.bytesConsumed, produced: reader.bytesProduced, rowsQueued: rowsQueued))
    }

    /// Lets the loaders finish what is queued.
    func finishRows() throws {
        queue.close()
        workers?.join()
        if let failure = queue.failure { throw failure }
        reportProgress(force: true)
    }

    func abandon(_ error: any Error) {
        queue.fail(error)
        workers?.join()
    }

    /// Indexes over the loaded rows, tables in parallel; then the foreign keys between them.
    func buildDeferredIndexes() throws {
        let started = ProcessInfo.processInfo.systemUptime
        let indexStatements = deferred.compactMap { alter in alter.indexes.map { (alter.table, $0) } }
        try LoaderPool.run(indexStatements, connections: loader.options.connections, endpoint: loader.endpoint, cancel: loader.cancel)
        for alter in deferred {
            if let foreignKeys = alter.foreignKeys { try execute(foreignKeys, line: 0, table: alter.table) }
        }
        result.indexSeconds = ProcessInfo.processInfo.systemUptime - started
    }
}

/// Collations the server lacks, replaced by the closest it has (see `TableDefinition`).
struct CollationTranslator {
    let available: Set<String>

    func translate(_ sql: String) -> (String, [String: String]) {
        TableDefinition.translatingCollations(sql, available: available)
    }
}

/// Loader threads, one connection each, taking INSERTs from the queue.
final class LoaderPool: @unchecked Sendable {
    // Unchecked: `group` is a DispatchGroup (thread-safe); nothing else is stored.
    private let group = DispatchGroup()

    init(count: Int, endpoint: MySQLEndpoint, prelude: [[UInt8]], queue: LoadQueue, cancel: CancelFlag) throws {
        // Connect first, so a refused connection fails the load before any thread starts.
        var connections: [MySQLConnection] = []
        for _ in 0..<count {
            let connection = try DumpLoader.connect(endpoint, cancel: cancel)
            for statement in prelude { _ = try? connection.query(statement) }
            connections.append(connection)
        }
        for connection in connections {
            let box = ConnectionBox(connection)
            group.enter()
            Thread.detachNewThread { [group] in
                defer { group.leave() }
                while let item = queue.pop() {
                    do {
                        try Self.insert(item.statement, on: box.connection)
                    } catch {
                        let excerpt = String(decoding: item.statement.prefix(160), as: UTF8.self)
                        queue.fail(cancel.isCancelled ? CancellationError()
                                   : ImportError(.dump, DumpLoader.failure(error, line: item.line, table: item.table, excerpt: excerpt)))
                        return
                    }
                }
            }
        }
    }

    func join() { group.wait() }

    /// Runs one INSERT; loaders writing the same table can deadlock on its secondary indexes
    /// (InnoDB then rolls the statement back whole), so a deadlock or lock timeout is retried.
    static func insert(_ statement: [UInt8], on connection: MySQLConnection) throws {
        var attempt = 0
        while true {
            let failure: MySQLError
            do {
                try connection.query(statement)
                return
            } catch {
                failure = error
            }
            guard failure.code == 1213 || failure.code == 1205, attempt < 8 else { throw failure }
            attempt += 1
            usleep(useconds_t(attempt * 20_000))
        }
    }

    /// Runs `statements` (table, SQL) over `connections` connections in parallel.
    static func run(_ statements: [(String, String)], connections: Int, endpoint: MySQLEndpoint, cancel: CancelFlag) throws {
        guard !statements.isEmpty else { return }
        let queue = LoadQueue(capacity: Int.max)
        for (table, sql) in statements { _ = queue.push(LoadQueue.Item(table: table, statement: Array(sql.utf8), rows: 0, line: 0)) }
        queue.close()
        let pool = try LoaderPool(count: min(connections, statements.count), endpoint: endpoint, prelude: [], queue: queue, cancel: cancel)
        pool.join()
        try cancel.check()
        if let failure = queue.failure { throw failure }
    }
}

/// Carries a connection to another thread.
final class ConnectionBox: @unchecked Sendable {
    // Unchecked: one thread at a time runs statements on the connection (a loader thread, or the
    // import's steps, each awaited before the next); the only call from elsewhere is a stop
    // action's `interrupt()`, which is `shutdown(2)` on the socket, safe from any thread.
    let connection: MySQLConnection
    init(_ connection: MySQLConnection) { self.connection = connection }
}
