import Archive
import Foundation
import Host
import MySQL
import Synchronization

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
/// optionally built at the end. Blocking: run it on a thread of its own.
final class DumpLoader {
    let endpoint: MySQLEndpoint
    let database: String
    let options: LoadOptions
    let cancelled: CancelFlag
    let progress: (LoadProgress) -> Void

    init(endpoint: MySQLEndpoint, database: String, options: LoadOptions,
         cancelled: CancelFlag, progress: @escaping (LoadProgress) -> Void) {
        var endpoint = endpoint
        endpoint.database = database
        self.endpoint = endpoint
        self.database = database
        self.options = options
        self.cancelled = cancelled
        self.progress = progress
    }

    /// Session settings for bulk loading: no constraint checks (the dump is consistent), no
    /// binary log for this session (when the user may say so), UTF-8 all the way.
    static let bulkSettings = ["SET NAMES utf8mb4", "SET SESSION foreign_key_checks = 0, unique_checks = 0",
                               "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
                               // Fewer gap locks between loaders inserting into one table.
                               "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"]

    static func connect(_ endpoint: MySQLEndpoint) throws -> MySQLConnection {
        let connection = try MySQLConnection(endpoint)
        for setting in bulkSettings { try connection.query(setting) }
        _ = try? connection.query("SET SESSION sql_log_bin = 0")
        return connection
    }

    func load(_ reader: ArchiveReader) throws -> LoadResult {
        let control = try Self.connect(endpoint)
        let available = Set(try control.query("SHOW COLLATION").rows.compactMap { $0.first ?? nil }.map { $0.lowercased() })
        var result = LoadResult()
        var splitter = StatementSplitter()
        let queue = LoadQueue(capacity: options.queueBytes)
        var prelude: [[UInt8]] = []
        var workers: LoaderPool?
        var alters: [(table: String, indexes: String?, foreignKeys: String?)] = []
        var lastReport = 0.0
        var rowsQueued = 0

        func execute(_ sql: String, line: Int, table: String?) throws {
            do {
                try control.query(sql)
            } catch {
                throw SyncError(Self.failure(error, line: line, table: table, excerpt: sql))
            }
        }

        func handle(_ statement: StatementSplitter.Statement) throws {
            if cancelled.isCancelled { throw CancellationError() }
            if let failure = queue.failure { throw failure }
            result.statements += 1
            switch DumpStatementKind.classify(statement.bytes) {
            case .insert(let table):
                if workers == nil {
                    workers = try LoaderPool(count: options.connections, endpoint: endpoint, prelude: prelude, queue: queue)
                }
                var rows = statement.tuples
                let words = DumpStatementKind.leadingWords(statement.bytes, limit: 6).map { $0.uppercased() }
                if let into = words.firstIndex(of: "INTO"), into + 2 < words.count, words[into + 2] == "(" { rows -= 1 }
                result.rows[table, default: 0] += rows
                rowsQueued += rows
                guard queue.push(LoadQueue.Item(table: table, statement: statement.bytes, rows: rows, line: statement.line)) else {
                    throw queue.failure ?? CancellationError()
                }
            case .createTable(let table):
                var sql = String(decoding: statement.bytes, as: UTF8.self)
                let (translated, changes) = TableDefinition.translatingCollations(sql, available: available)
                sql = translated
                result.collations.merge(changes) { a, _ in a }
                if options.deferIndexes {
                    let split = TableDefinition.deferringIndexes(sql, table: table)
                    sql = split.create
                    if split.indexes != nil || split.foreignKeys != nil { alters.append((table, split.indexes, split.foreignKeys)) }
                }
                try execute(sql, line: statement.line, table: table)
                if !result.tables.contains(table) { result.tables.append(table) }
            case .dropTable(let table):
                try execute(String(decoding: statement.bytes, as: UTF8.self), line: statement.line, table: table)
                alters.removeAll { $0.table == table }
                result.tables.removeAll { $0 == table }
            case .session:
                if workers == nil { prelude.append(statement.bytes) }
                let sql = String(decoding: statement.bytes, as: UTF8.self)
                result.objects.append(sql)
                _ = try? control.query(statement.bytes)
            case .object:
                let (translated, changes) = TableDefinition.translatingCollations(String(decoding: statement.bytes, as: UTF8.self), available: available)
                result.collations.merge(changes) { a, _ in a }
                result.objects.append(translated)
            case .ignored:
                break
            case .other:
                let (translated, changes) = TableDefinition.translatingCollations(String(decoding: statement.bytes, as: UTF8.self), available: available)
                result.collations.merge(changes) { a, _ in a }
                try execute(translated, line: statement.line, table: nil)
            }
            let now = ProcessInfo.processInfo.systemUptime
            if now - lastReport > 0.2 {
                lastReport = now
                progress(LoadProgress(consumed: reader.bytesConsumed, produced: reader.bytesProduced, rowsQueued: rowsQueued))
            }
        }

        do {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
            defer { buffer.deallocate() }
            var sawSQL = false
            while let entry = try reader.nextEntry() {
                guard entry.isFile || reader.isRaw else { continue }
                guard reader.isRaw || Self.isSQL(entry.path) else { continue }
                sawSQL = true
                while true {
                    let count = try reader.read(into: buffer)
                    if count == 0 { break }
                    try splitter.feed(UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count), handle)
                }
                try splitter.finish(handle)
                splitter = StatementSplitter()
            }
            guard sawSQL else { throw SyncError("the archive holds no .sql file") }
            result.bytes = reader.bytesProduced
            queue.close()
            workers?.join()
            if let failure = queue.failure { throw failure }
        } catch {
            queue.fail(error)
            workers?.join()
            throw queue.failure ?? error
        }
        progress(LoadProgress(consumed: reader.bytesConsumed, produced: reader.bytesProduced, rowsQueued: rowsQueued))

        // Indexes over the loaded rows, tables in parallel; then the foreign keys between them.
        let started = ProcessInfo.processInfo.systemUptime
        let indexStatements = alters.compactMap { alter in alter.indexes.map { (alter.table, $0) } }
        try LoaderPool.run(indexStatements, connections: options.connections, endpoint: endpoint, cancelled: cancelled)
        for alter in alters {
            if let foreignKeys = alter.foreignKeys { try execute(foreignKeys, line: 0, table: alter.table) }
        }
        result.indexSeconds = ProcessInfo.processInfo.systemUptime - started
        return result
    }

    static func isSQL(_ path: String) -> Bool {
        let name = path.lowercased()
        return [".sql", ".sql.gz", ".sql.bz2", ".sql.xz", ".sql.zst"].contains { name.hasSuffix($0) }
    }

    /// One paragraph naming where the dump failed and what the server said.
    static func failure(_ error: any Error, line: Int, table: String?, excerpt: String) -> String {
        let place = line > 0 ? "at line \(line) of the dump" : "after the rows were loaded"
        let subject = table.map { " (table `\($0)`)" } ?? ""
        let shortened = excerpt.count > 160 ? String(excerpt.prefix(160)) + "…" : excerpt
        return "the import failed \(place)\(subject): \(error). Statement: \(shortened.replacingOccurrences(of: "\n", with: " "))"
    }
}

/// Loader threads, one connection each, taking INSERTs from the queue.
final class LoaderPool: @unchecked Sendable {
    private let group = DispatchGroup()

    init(count: Int, endpoint: MySQLEndpoint, prelude: [[UInt8]], queue: LoadQueue) throws {
        // Connect first, so a refused connection fails the load before any thread starts.
        var connections: [MySQLConnection] = []
        for _ in 0..<count {
            let connection = try DumpLoader.connect(endpoint)
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
                        queue.fail(SyncError(DumpLoader.failure(error, line: item.line, table: item.table, excerpt: excerpt)))
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
    static func run(_ statements: [(String, String)], connections: Int, endpoint: MySQLEndpoint, cancelled: CancelFlag) throws {
        guard !statements.isEmpty else { return }
        let queue = LoadQueue(capacity: Int.max)
        for (table, sql) in statements { _ = queue.push(LoadQueue.Item(table: table, statement: Array(sql.utf8), rows: 0, line: 0)) }
        queue.close()
        let pool = try LoaderPool(count: min(connections, statements.count), endpoint: endpoint, prelude: [], queue: queue)
        pool.join()
        if let failure = queue.failure { throw failure }
        if cancelled.isCancelled { throw CancellationError() }
    }
}

/// Hands a connection to the one thread that uses it from then on.
final class ConnectionBox: @unchecked Sendable {
    let connection: MySQLConnection
    init(_ connection: MySQLConnection) { self.connection = connection }
}
