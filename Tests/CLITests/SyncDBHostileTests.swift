import Foundation
import Host
import Testing
import TestSupport

/// Issue 17's sync-db cases, tried as a hostile or careless user would, against the real `devbox`
/// and the test MariaDB: two runs at once, dumps that reach for other databases, files and users,
/// truncated dumps, escape codes, signals, and the errors that must say what to do. Every case
/// checks the promise: the database is the new dump, or exactly what it was, with no shadow
/// database, no temporary loader user and no password left behind.
@Suite struct SyncDBHostileTests {
    // MARK: running devbox

    func environment(_ fixture: DumpFixture, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = ["HOME": fixture.directory.file("home"), "DEVBOX_SYSTEM_CONFIG": fixture.directory.file("etc.toml")]
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// A database name of this test's own, and its URL (with the password: pass it in the environment).
    func target(_ fixture: DumpFixture, length: Int? = nil) -> (name: String, url: String) {
        var name = "hostile_" + UUID().uuidString.prefix(8).lowercased()
        if let length { name += "_" + String(repeating: "x", count: length - name.count - 1) }
        return (name, fixture.database.url(name))
    }

    /// How devbox shows the URL: without the password.
    func display(_ url: String) -> String { url.replacingOccurrences(of: ":\(TestDatabase.password)", with: "") }

    /// Runs devbox as `CLI.run` does (NO_COLOR=1, TERM=dumb) and checks the password stays out of its output.
    func devbox(_ arguments: [String], _ environment: [String: String], input: [UInt8]? = nil,
                sourceLocation: SourceLocation = #_sourceLocation) async throws -> ProcessResult {
        let result = try await CLI.run("devbox", arguments, environment: environment, input: input, timeout: .seconds(120))
        expectNoSecret(result.output, result.errorOutput, sourceLocation: sourceLocation)
        return result
    }

    func expectNoSecret(_ output: String, _ errorOutput: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!output.contains(TestDatabase.password) && !errorOutput.contains(TestDatabase.password),
                "the test database's password was printed", sourceLocation: sourceLocation)
    }

    /// A small hand-written dump in the fixture's directory.
    func dump(_ fixture: DumpFixture, _ file: String, _ sql: String) throws -> String {
        let path = fixture.directory.file(file)
        try sql.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `CREATE TABLE t1`, two rows, `statement` on line 4, and mysqldump's closing line.
    func dump(_ fixture: DumpFixture, _ file: String, withLine4 statement: String) throws -> String {
        try dump(fixture, file, """
            -- MariaDB dump 10.19 (hand-written: one statement among ordinary ones)
            CREATE TABLE t1 (id INT PRIMARY KEY);
            INSERT INTO t1 VALUES (1),(2);
            \(statement)
            -- Dump completed on 2026-11-30

            """)
    }

    /// The target loaded with the fixture's own dump: tables, a view, a trigger and routines.
    func loaded(_ fixture: DumpFixture, _ url: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let first = try await devbox(["sync-db", "--file", fixture.sql], environment(fixture, ["DEVBOX_DATABASE_URL": url]))
        try #require(first.status == 0, "\(first.errorOutput)", sourceLocation: sourceLocation)
    }

    // MARK: checking what is left

    func like(_ name: some StringProtocol) -> String { name.replacingOccurrences(of: "_", with: "\\_") }

    func value(_ fixture: DumpFixture, _ query: String, in database: String? = nil) async throws -> String {
        try await fixture.database.sql(query, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// No shadow database and no temporary loader user of this target survive, whatever happened.
    /// A loader user is found by its grant on this target's shadow (mysql.db), so the imports
    /// other tests run at the same time do not count. One query: every spawn counts (see the report).
    func expectNothingLeft(_ fixture: DumpFixture, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let prefix = like(name.prefix(16))
        let row = try await fixture.database.sql("""
            SELECT IFNULL((SELECT GROUP_CONCAT(SCHEMA_NAME) FROM information_schema.SCHEMATA
                           WHERE SCHEMA_NAME LIKE '\(prefix)%\\_\\_devbox\\_shadow'), '-'),
                   IFNULL((SELECT GROUP_CONCAT(DISTINCT User) FROM mysql.db WHERE User LIKE 'dumpimport\\_%' AND REPLACE(Db, '\\\\', '') LIKE '\(prefix)%'), '-')
            """).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").map(String.init)
        #expect(row.first == "-", "a shadow database was left: \(row)", sourceLocation: sourceLocation)
        #expect(row.last == "-", "a loader user was left: \(row)", sourceLocation: sourceLocation)
    }

    /// The fixture dump's function, view, procedure and trigger work in `name` (the trigger's
    /// check adds a row to audit_log: call this after comparing summaries). One client run.
    func expectObjectsWork(_ fixture: DumpFixture, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let lines = try await fixture.database.sql("""
            SELECT double_it(21); SELECT COUNT(*) FROM customer; SELECT COUNT(*) FROM customer_totals;
            CALL count_customers(@n); SELECT @n; SELECT COUNT(*) FROM audit_log;
            UPDATE customer SET name = CONCAT(name, '.') WHERE id = 1; SELECT COUNT(*) FROM audit_log;
            """, database: name).split(separator: "\n").map(String.init)
        try #require(lines.count == 6, "\(lines)", sourceLocation: sourceLocation)
        #expect(lines[0] == "42", "the function", sourceLocation: sourceLocation)
        #expect(lines[2] == lines[1], "the view", sourceLocation: sourceLocation)
        #expect(lines[3] == lines[1], "the procedure", sourceLocation: sourceLocation)
        #expect(Int(lines[5]) == (Int(lines[4]) ?? -1) + 1, "the trigger did not fire", sourceLocation: sourceLocation)
    }

    func drop(_ fixture: DumpFixture, _ name: String) async {
        guard let list = try? await fixture.database.sql("SHOW DATABASES LIKE '\(like(name.prefix(16)))%'") else { return }
        for database in list.split(separator: "\n") { _ = try? await fixture.database.sql("DROP DATABASE `\(database)`") }
    }

    // MARK: 1. two runs at once

    @Test func aHeldLockRefusesSyncAndRestoreAndChangesNothing() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 6)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        // A second sync, so there is a snapshot a restore could bring back.
        let second = try await devbox(["sync-db", "--file", fixture.sql], env)
        try #require(second.status == 0, "\(second.errorOutput)")
        let before = try await fixture.summary(of: name)
        let snapshotsBefore = try await devbox(["db", "snapshots", "--json"], env).output
        let snapshot = try #require((try JSONSerialization.jsonObject(with: Data(snapshotsBefore.utf8)) as? [[String: Any]])?.first?["name"] as? String)

        // Another session holds the lock every import and restore of this database takes (ImportNames.lock).
        let lock = "dumpimport:\(name)"
        let holder = Task { try? await fixture.database.sql("SELECT GET_LOCK('\(lock)', 0), SLEEP(60)") }
        var holderID = ""
        for _ in 0..<50 where holderID.isEmpty || holderID == "NULL" {
            try await Task.sleep(for: .milliseconds(100))
            holderID = try await value(fixture, "SELECT IS_USED_LOCK('\(lock)')")
        }
        try #require(!holderID.isEmpty && holderID != "NULL", "the test could not take the lock")

        let busy = "another sync-db or restore is replacing \(name) right now: connection \(holderID) (root@localhost"
        for arguments in [["sync-db", "--file", fixture.sql], ["db", "restore"], ["db", "restore", snapshot]] {
            let result = try await devbox(arguments, env)
            #expect(result.status == 1, "\(arguments): \(result.errorOutput)")
            #expect(result.errorOutput.contains(busy) && result.errorOutput.contains("holds its lock. Wait for it to finish and run this again."),
                    "\(arguments): \(result.errorOutput)")
            #expect(result.errorOutput.contains("\(display(url)) is unchanged."), "\(arguments): \(result.errorOutput)")
            #expect(try await fixture.summary(of: name) == before, "\(arguments) changed the database")
            try await expectNothingLeft(fixture, name)
        }
        #expect(try await devbox(["db", "snapshots", "--json"], env).output == snapshotsBefore)

        // The holder goes away: the lock goes with it and the next run works.
        try await fixture.database.sql("KILL \(holderID)")
        _ = await holder.value
        let after = try await devbox(["sync-db", "--file", fixture.sql], env)
        #expect(after.status == 0, "\(after.errorOutput)")
        try await expectObjectsWork(fixture, name)
        await drop(fixture, name)
    }

    @Test func twoSyncsAtOnceNeverMixTheirDumps() async throws {
        let a = try await DumpFixture(tables: 2, rows: 12)
        defer { Task { await a.remove() } }
        let b = try await DumpFixture(tables: 3, rows: 8)
        defer { Task { await b.remove() } }
        try #require(a.tables != b.tables)
        let (name, url) = target(a)
        let env = environment(a, ["DEVBOX_DATABASE_URL": url])
        let busy = "another sync-db or restore is replacing \(name) right now"
        var outcomes: [String] = []
        // Started together, or the second a little later (while the first loads, verifies or
        // swaps, or after it finished); each dump first in turn.
        let delays: [Duration] = [.zero, .zero, .milliseconds(40), .milliseconds(120), .milliseconds(250), .milliseconds(700)]
        for (round, delay) in delays.enumerated() {
            let (x, y) = round.isMultiple(of: 2) ? (a, b) : (b, a)
            async let first = devbox(["sync-db", "--file", x.sql], env)
            async let second = later(delay) { try await devbox(["sync-db", "--file", y.sql], env) }
            let results = try await [first, second]
            for result in results where result.status != 0 {
                // The only acceptable failure: refused at the start, nothing touched.
                #expect(result.status == 1 && result.errorOutput.contains(busy) && result.errorOutput.contains("\(display(url)) is unchanged."),
                        "round \(round): \(result.errorOutput)")
            }
            #expect(results.contains { $0.status == 0 }, "round \(round): neither run succeeded")
            let final = try await a.summary(of: name)
            switch (results[0].status, results[1].status) {
            case (0, 0): #expect(final == x.tables || final == y.tables, "round \(round): a mix of both dumps: \(final.keys.sorted())")
            case (0, _): #expect(final == x.tables, "round \(round): \(final.keys.sorted())")
            case (_, 0): #expect(final == y.tables, "round \(round): \(final.keys.sorted())")
            default: break
            }
            try await expectObjectsWork(a, name)
            try await expectNothingLeft(a, name)
            outcomes.append("\(results[0].status)/\(results[1].status)")
        }
        print("SyncDBHostileTests: concurrent sync-db outcomes per round (first/second): \(outcomes.joined(separator: ", "))")
        await drop(a, name)
    }

    func later<T: Sendable>(_ delay: Duration, _ body: @Sendable () async throws -> T) async throws -> T {
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await body()
    }

    // MARK: 2. hostile statements

    /// One statement on line 4 of a small dump: `{other}` is another database of the server,
    /// `{outfile}` a file path, `{evil}` a user name of this case's own, `{victim}` an existing
    /// user of this case's own.
    struct Hostile: Sendable, CustomTestStringConvertible {
        var label: String
        var statement: String
        /// The sentence stderr must hold.
        var refusal: String
        /// The statement tries a global server setting: check net_read_timeout.
        var setsGlobal = false
        var testDescription: String { label }
    }

    static let elsewhere = "it names another database (`{other}`.`{table}`); a dump may only write its own tables"

    static let hostile: [Hostile] = [
        // The issue's cases.
        Hostile(label: "INSERT INTO otherdb.victim", statement: "INSERT INTO {other}.victim VALUES (99, 'pwned');",
                refusal: "the dump is refused at line 4: " + elsewhere.replacingOccurrences(of: "{table}", with: "victim")),
        Hostile(label: "DROP TABLE IF EXISTS otherdb.victim", statement: "DROP TABLE IF EXISTS {other}.victim;",
                refusal: "the dump is refused at line 4: " + elsewhere.replacingOccurrences(of: "{table}", with: "victim")),
        Hostile(label: "PREPARE/EXECUTE a DELETE", statement: "PREPARE s FROM 'DELETE FROM {other}.victim'; EXECUTE s;",
                refusal: "the dump is refused at line 4: PREPARE is not a statement dump tools write"),
        Hostile(label: "SELECT INTO OUTFILE", statement: "SELECT * FROM t1 INTO OUTFILE '{outfile}';",
                refusal: "the dump is refused at line 4: SELECT is not a statement dump tools write"),
        Hostile(label: "CREATE TABLE otherdb.pwn2", statement: "CREATE TABLE {other}.pwn2 (id INT);",
                refusal: "the dump is refused at line 4: " + elsewhere.replacingOccurrences(of: "{table}", with: "pwn2")),
        Hostile(label: "RENAME TABLE t1 TO otherdb.moved", statement: "RENAME TABLE t1 TO {other}.moved;",
                refusal: "the dump is refused at line 4: RENAME is not a statement dump tools write"),
        Hostile(label: "CREATE USER evil", statement: "CREATE USER 'evil'@'%';",
                refusal: "the dump is refused at line 4: CREATE USER is not something a dump of one database contains"),
        // Variants nobody listed: quoting, executable comments, the restricted loader as the last line of defence.
        Hostile(label: "backquoted INSERT INTO `otherdb`.victim", statement: "INSERT INTO `{other}`.victim VALUES (98, 'pwned');",
                refusal: "the dump is refused at line 4: " + elsewhere.replacingOccurrences(of: "{table}", with: "victim")),
        Hostile(label: "DROP TABLE otherdb.victim inside /*!50000 */", statement: "/*!50000 DROP TABLE `{other}`.`victim` */;",
                refusal: "the dump is refused at line 4: " + elsewhere.replacingOccurrences(of: "{table}", with: "victim")),
        Hostile(label: "ALTER TABLE t1 RENAME TO otherdb.moved (the loader user may not)", statement: "ALTER TABLE t1 RENAME TO {other}.moved;",
                refusal: "the import failed at line 4 of the dump (table `t1`)"),
        // An executable comment for a server version that does not exist is a comment to the
        // server: what it runs is what stands outside.
        Hostile(label: "DROP /*!99999 TRIGGER */ DATABASE otherdb", statement: "DROP /*!99999 TRIGGER */ DATABASE `{other}`;",
                refusal: "the dump is refused at line 4"),
        Hostile(label: "/*!99999 SET @x = 1 */ DROP DATABASE otherdb", statement: "/*!99999 SET @x = 1 */ DROP DATABASE `{other}`;",
                refusal: "the dump is refused at line 4"),
        Hostile(label: "CREATE /*!99999 VIEW v */ USER", statement: "CREATE /*!99999 VIEW v */ USER '{evil}'@'%';",
                refusal: "the dump is refused at line 4"),
        // GLOBAL past the words the classifier reads.
        Hostile(label: "SET GLOBAL after six user variables", statement: "SET @a=1, @b=2, @c=3, @d=4, @e=5, @f=6, GLOBAL net_read_timeout = 31;",
                refusal: "the dump is refused at line 4", setsGlobal: true),
        Hostile(label: "SET PASSWORD FOR another user after six user variables",
                statement: "SET @a=1, @b=2, @c=3, @d=4, @e=5, @f=6, PASSWORD FOR '{victim}'@'%' = PASSWORD('pwned');",
                refusal: "the dump is refused at line 4"),
        // No dump tool writes a function from a shared library: the server would load it.
        Hostile(label: "CREATE FUNCTION ... SONAME", statement: "CREATE FUNCTION pwn_udf RETURNS STRING SONAME 'ha_example.so';",
                refusal: "the dump is refused at line 4"),
    ]

    @Test(arguments: Self.hostile)
    func aHostileStatementIsRefusedAndReachesNothing(_ hostile: Hostile) async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 6)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)

        let other = "other_" + UUID().uuidString.prefix(8).lowercased()
        let evil = "evil_" + UUID().uuidString.prefix(8).lowercased()
        let victim = "victim_" + UUID().uuidString.prefix(8).lowercased()
        let outfile = "/tmp/devbox-outfile-\(UUID().uuidString).txt"
        try await fixture.database.sql("""
            CREATE DATABASE `\(other)`;
            CREATE TABLE `\(other)`.victim (id INT PRIMARY KEY, note VARCHAR(20));
            INSERT INTO `\(other)`.victim VALUES (1, 'precious'), (2, 'data'), (3, 'here');
            CREATE USER '\(victim)'@'%' IDENTIFIED BY 'its-own-password';
            """)
        let otherBefore = try await fixture.summary(of: other)
        let serverBefore = try await value(fixture, """
            SELECT @@GLOBAL.net_read_timeout, (SELECT authentication_string FROM mysql.user WHERE User = '\(victim)'),
                   (SELECT COUNT(*) FROM mysql.func)
            """).split(separator: "\t").map(String.init)
        let globalBefore = serverBefore.first ?? ""
        defer {
            Task {
                _ = try? await fixture.database.sql("DROP DATABASE IF EXISTS `\(other)`; DROP USER IF EXISTS '\(evil)'@'%'; "
                                                    + "DROP USER IF EXISTS '\(victim)'@'%'; DROP FUNCTION IF EXISTS pwn_udf")
                if hostile.setsGlobal { _ = try? await fixture.database.sql("SET GLOBAL net_read_timeout = \(globalBefore)") }
                try? FileManager.default.removeItem(atPath: outfile)
            }
        }
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "{other}", with: other).replacingOccurrences(of: "{outfile}", with: outfile)
                .replacingOccurrences(of: "{evil}", with: evil).replacingOccurrences(of: "{victim}", with: victim)
        }
        let file = try dump(fixture, "hostile.sql", withLine4: fill(hostile.statement))

        let result = try await devbox(["sync-db", "--file", file], env)
        #expect(result.status == 1, "\(result.errorOutput)")
        #expect(result.errorOutput.contains(fill(hostile.refusal)), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("\(display(url)) is unchanged."), "\(result.errorOutput)")
        #expect(!result.output.contains("now holds"))
        // Nothing outside the target moved: the other database, the file system, the users, the server.
        let outside = try await value(fixture, """
            SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '\(other)'),
                   (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '\(other)'),
                   (SELECT COUNT(*) FROM mysql.user WHERE User IN ('evil', '\(evil)')),
                   @@GLOBAL.net_read_timeout, (SELECT authentication_string FROM mysql.user WHERE User = '\(victim)'),
                   (SELECT COUNT(*) FROM mysql.func)
            """).split(separator: "\t").map(String.init)
        #expect(outside.first == "1", "\(other) is gone")
        #expect(outside.dropFirst().first == "1", "tables were added to or removed from \(other)")
        #expect(outside.dropFirst(2).first == "0", "the dump created a user")
        if hostile.setsGlobal { #expect(outside.dropFirst(3).first == globalBefore, "the dump changed a global setting") }
        #expect(Array(outside.dropFirst(4)) == Array(serverBefore.dropFirst()), "the dump changed \(victim)'s password or added a server function")
        if outside.first == "1" { #expect(try await fixture.summary(of: other) == otherBefore, "\(other) changed") }
        #expect(!FileManager.default.fileExists(atPath: outfile), "the dump wrote \(outfile)")
        // And the target is exactly as it was.
        let after = try await fixture.summary(of: name)
        #expect(after == before)
        try await expectNothingLeft(fixture, name)
        if after == before { try await expectObjectsWork(fixture, name) }
        await drop(fixture, name)
    }

    // MARK: 3. a table named devbox_objects

    @Test func aTableNamedDevboxObjectsLoadsAndSurvivesSnapshotsAndRestore() async throws {
        let fixture = try await DumpFixture(tables: 2, rows: 10)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        let sql = try String(contentsOfFile: fixture.sql, encoding: .utf8)
        let marker = "--\n-- Table structure for table `audit_log`"
        try #require(sql.contains(marker))
        let table = """
            --
            -- Table structure for table `devbox_objects`
            --

            DROP TABLE IF EXISTS `devbox_objects`;
            CREATE TABLE `devbox_objects` (`snapshot` varchar(64) NOT NULL, `position` int(11) NOT NULL, `kind` varchar(20) DEFAULT NULL,
              `name` varchar(64) DEFAULT NULL, `definition` longtext DEFAULT NULL, PRIMARY KEY (`snapshot`,`position`))
              ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
            INSERT INTO `devbox_objects` VALUES ('app__snap_20261130_030000',0,'VIEW','report','the application''s own rows'),
              ('app__snap_20261130_030000',1,'TRIGGER','audit','kept by the application');


            """
        let file = try dump(fixture, "with-devbox-objects.sql", sql.replacingOccurrences(of: marker, with: table + marker))

        let first = try await devbox(["sync-db", "--file", file], env)
        #expect(first.status == 0, "\(first.errorOutput)")
        #expect(first.errorOutput.contains("verify: \(fixture.tables.count + 1) tables hold every row of the dump"), "\(first.errorOutput)")
        let loaded = try await fixture.summaryOfEveryTable(of: name)
        #expect(loaded["devbox_objects"]?.rows == 2, "\(loaded.keys.sorted())")
        #expect(loaded.filter { $0.key != "devbox_objects" } == fixture.tables)

        // Local work, then a second sync: the edited data, devbox_objects included, becomes a snapshot.
        try await fixture.database.sql("DELETE FROM devbox_objects WHERE position = 1", database: name)
        let edited = try await fixture.summaryOfEveryTable(of: name)
        let second = try await devbox(["sync-db", "--file", file], env)
        #expect(second.status == 0, "\(second.errorOutput)")
        #expect(try await fixture.summaryOfEveryTable(of: name) == loaded)
        let listed = try await devbox(["db", "snapshots", "--json"], env)
        let snapshots = try JSONSerialization.jsonObject(with: Data(listed.standardOutput)) as? [[String: Any]] ?? []
        #expect(snapshots.count == 1, "\(listed.output)")
        #expect((snapshots.first?["name"] as? String)?.hasPrefix("\(name)__snap_") == true)
        #expect(snapshots.first?["tables"] as? Int == fixture.tables.count + 1, "\(listed.output)")

        let restored = try await devbox(["db", "restore", "--json"], env)
        #expect(restored.status == 0, "\(restored.errorOutput)")
        #expect(try await fixture.summaryOfEveryTable(of: name) == edited)
        try await expectObjectsWork(fixture, name)
        let document = try JSONSerialization.jsonObject(with: Data(restored.standardOutput)) as? [String: Any] ?? [:]
        let saved = try #require(document["previousDataSavedAs"] as? String, "\(restored.output)")
        let back = try await devbox(["db", "restore", saved], env)
        #expect(back.status == 0, "\(back.errorOutput)")
        #expect(try await fixture.summaryOfEveryTable(of: name) == loaded)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    // MARK: 4. truncated dumps

    @Test func aDumpCutAfterACompleteStatementIsRefusedUnlessAllowedOrChecksummed() async throws {
        let fixture = try await DumpFixture(tables: 2, rows: 10)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)
        #expect(before == fixture.tables)

        // mariadb-dump's output without its last table, view, routines and closing line.
        let sql = try String(contentsOfFile: fixture.sql, encoding: .utf8)
        let last = try #require(sql.range(of: "--\n-- Table structure for table `t01_events`"))
        let cut = try dump(fixture, "cut.sql", String(sql[..<last.lowerBound]))
        let partial = fixture.tables.filter { $0.key != "t01_events" }

        let refused = try await devbox(["sync-db", "--file", cut], env)
        #expect(refused.status == 1, "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("\(cut) does not end with the `-- Dump completed` line mysqldump and mariadb-dump write last, "
            + "and no checksum proves it whole: it looks truncated."), "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("run again with --allow-incomplete. \(display(url)) is unchanged."), "\(refused.errorOutput)")
        #expect(try await fixture.summary(of: name) == before)
        try await expectNothingLeft(fixture, name)

        let allowed = try await devbox(["sync-db", "--file", cut, "--allow-incomplete"], env)
        #expect(allowed.status == 0, "\(allowed.errorOutput)")
        #expect(try await fixture.summary(of: name) == partial)
        try await expectNothingLeft(fixture, name)

        // A checksum beside the file (sha256sum's output) proves it whole instead.
        let reloaded = try await devbox(["sync-db", "--file", fixture.sql], env)
        try #require(reloaded.status == 0, "\(reloaded.errorOutput)")
        #expect(try await fixture.summary(of: name) == fixture.tables)
        let summed = try await ChildProcess.run("sha256sum", ["cut.sql"], directory: fixture.directory.path)
        try #require(summed.succeeded)
        try summed.output.write(toFile: cut + ".sha256", atomically: true, encoding: .utf8)
        let checksummed = try await devbox(["sync-db", "--file", cut], env)
        #expect(checksummed.status == 0, "\(checksummed.errorOutput)")
        #expect(!checksummed.errorOutput.contains("does not end with"))
        #expect(try await fixture.summary(of: name) == partial)

        // A checksum that does not match the file: refused, nothing changed.
        let whole = try dump(fixture, "whole.sql", sql)
        let wholeSum = try await ChildProcess.run("sha256sum", ["whole.sql"], directory: fixture.directory.path)
        let wrong = String(summed.output.prefix(64))
        try "\(wrong)  whole.sql\n".write(toFile: whole + ".sha256", atomically: true, encoding: .utf8)
        let mismatch = try await devbox(["sync-db", "--file", whole], env)
        #expect(mismatch.status == 1, "\(mismatch.errorOutput)")
        #expect(mismatch.errorOutput.contains("the dump's SHA-256 is \(wholeSum.output.prefix(64)), but \(wrong)"), "\(mismatch.errorOutput)")
        #expect(mismatch.errorOutput.contains("\(display(url)) is unchanged."), "\(mismatch.errorOutput)")
        // A local file has no cached copy to remove.
        #expect(!mismatch.errorOutput.contains("cached copy"), "\(mismatch.errorOutput)")
        #expect(try await fixture.summary(of: name) == partial)
        // And one that holds no SHA-256 at all.
        try "not a checksum\n".write(toFile: whole + ".sha256", atomically: true, encoding: .utf8)
        let garbage = try await devbox(["sync-db", "--file", whole], env)
        #expect(garbage.status == 1 && garbage.errorOutput.contains("\(whole).sha256 does not hold a SHA-256 (sha256sum's output); fix or remove it."),
                "\(garbage.errorOutput)")
        #expect(try await fixture.summary(of: name) == partial)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    // MARK: 5. terminal safety

    /// Runs devbox with colours allowed: no NO_COLOR, a colour terminal type.
    func devboxWithColour(_ arguments: [String], _ environment: [String: String]) async throws -> ProcessResult {
        var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "TERM": "xterm-256color", "AWS_EC2_METADATA_DISABLED": "true"]
        env.merge(environment) { _, new in new }
        let result = try await ChildProcess.run(BuildProducts.executable("devbox").path, arguments, environment: env, timeout: .seconds(120))
        expectNoSecret(result.output, result.errorOutput)
        return result
    }

    /// A line 4 carrying escape codes (the label, not the statement, names the test case: the
    /// test log is read on terminals too).
    struct Escapes: Sendable, CustomTestStringConvertible {
        var label: String
        var statement: String
        var message: String
        var testDescription: String { label }
    }

    @Test(arguments: [
        Escapes(label: "refused statement", statement: "GRANT ALL ON t1 TO '\u{1b}[2J\u{1b}[31mevil'@'%';",
                message: "the dump is refused at line 4"),
        Escapes(label: "statement the server rejects", statement: "CREATE TABLE `\u{1b}[2Jt2\u{1b}[31m` (id INT PRIMARY KEY) ENGINE=\u{1b}[31mNope;",
                message: "the import failed at line 4"),
        Escapes(label: "INSERT into a table that does not exist", statement: "INSERT INTO `t\u{1b}[2J\u{1b}[31m9` VALUES (3);",
                message: "the import failed at line 4"),
    ])
    func escapeCodesInADumpNeverReachTheTerminal(_ escapes: Escapes) async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)
        let file = try dump(fixture, "escapes.sql", withLine4: escapes.statement)
        let result = try await devboxWithColour(["sync-db", "--file", file], env)
        let shown = result.errorOutput.debugDescription
        #expect(result.status == 1, "\(shown)")
        #expect(result.errorOutput.contains(escapes.message), "\(shown)")
        #expect(!result.standardError.contains(0x1b), "an ESC byte reached stderr: \(shown)")
        #expect(!result.standardOutput.contains(0x1b), "an ESC byte reached stdout")
        #expect(result.errorOutput.contains("\\u{1b}[2J"), "the excerpt should show the escape written out: \(shown)")
        #expect(try await fixture.summary(of: name) == before)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    @Test func escapeCodesInAFileNameNeverReachTheTerminal() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let result = try await devboxWithColour(["sync-db", "--file", fixture.directory.file("nope-\u{1b}[2J\u{1b}[31m.sql")],
                                                environment(fixture, ["DEVBOX_DATABASE_URL": url]))
        #expect(result.status == 1, "\(result.errorOutput.debugDescription)")
        #expect(result.errorOutput.contains("no such file or directory"), "\(result.errorOutput.debugDescription)")
        #expect(!result.standardError.contains(0x1b), "an ESC byte reached stderr: \(result.errorOutput.debugDescription)")
        try await expectNothingLeft(fixture, name)
    }

    // MARK: 6. errors that say what to do

    @Test func keepZeroSaysNoSnapshotWasKept() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        let small = try dump(fixture, "small.sql", withLine4: "INSERT INTO t1 VALUES (3);")
        let text = try await devbox(["sync-db", "--file", small, "--keep", "0"], env)
        #expect(text.status == 0, "\(text.errorOutput)")
        #expect(text.output.contains("no snapshot of the previous data was kept (--keep 0)"), "\(text.output)")
        #expect(!text.output.contains("previous data kept as"), "\(text.output)")
        let json = try await devbox(["sync-db", "--file", fixture.sql, "--keep", "0", "--json"], env)
        #expect(json.status == 0, "\(json.errorOutput)")
        let report = try JSONSerialization.jsonObject(with: Data(json.standardOutput)) as? [String: Any] ?? [:]
        #expect(report["snapshot"] == nil || report["snapshot"] is NSNull, "\(json.output)")
        // The snapshot just made is not counted as an older one pruned; the report says none was kept.
        #expect((report["pruned"] as? [String])?.isEmpty == true, "\(json.output)")
        #expect(report["previousDataDiscarded"] as? Bool == true, "\(json.output)")
        #expect(!text.output.contains("pruned"), "\(text.output)")
        // And none exists.
        let listed = try await devbox(["db", "snapshots", "--json"], env)
        #expect((try JSONSerialization.jsonObject(with: Data(listed.standardOutput)) as? [Any])?.isEmpty == true, "\(listed.output)")
        #expect(try await value(fixture, "SHOW DATABASES LIKE '\(like(name))\\_\\_snap\\_%'").isEmpty)
        let restore = try await devbox(["db", "restore"], env)
        #expect(restore.status == 1 && restore.errorOutput.contains("there are no snapshots of \(name) yet"), "\(restore.errorOutput)")
        #expect(try await fixture.summary(of: name) == fixture.tables)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    @Test func anEmptyFileOrStandardInputSaysTheInputIsEmpty() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)
        let empty = try dump(fixture, "empty.sql", "")
        let fromFile = try await devbox(["sync-db", "--file", empty], env)
        #expect(fromFile.status == 1, "\(fromFile.errorOutput)")
        #expect(fromFile.errorOutput.contains("\(empty) is empty: there is no dump to load."), "\(fromFile.errorOutput)")
        let fromStdin = try await devbox(["sync-db", "--file", "-"], env, input: [])
        #expect(fromStdin.status == 1, "\(fromStdin.errorOutput)")
        #expect(fromStdin.errorOutput.contains("standard input is empty: there is no dump to load."), "\(fromStdin.errorOutput)")
        for result in [fromFile, fromStdin] {
            #expect(!result.errorOutput.contains("holds no .sql file"), "\(result.errorOutput)")
            #expect(result.errorOutput.contains("\(display(url)) is unchanged."), "\(result.errorOutput)")
        }
        #expect(try await fixture.summary(of: name) == before)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    @Test(arguments: [
        // Within one INSERT (InnoDB's bulk load into an empty table notices only at COMMIT).
        "INSERT INTO dup_t VALUES (1,1),(2,2),(1,3);\n-- Dump completed on 2026-11-30\n",
        // Across two INSERTs, as two loader connections see them.
        "INSERT INTO dup_t VALUES (1,1),(2,2);\nINSERT INTO dup_t VALUES (2,5);\n-- Dump completed on 2026-11-30\n",
    ])
    func aDuplicatePrimaryKeyNamesTheTable(rows: String) async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)
        let file = try dump(fixture, "duplicate.sql", "-- hand-written\nCREATE TABLE dup_t (id INT PRIMARY KEY, v INT);\n" + rows)
        let result = try await devbox(["sync-db", "--file", file], environment(fixture, ["DEVBOX_DATABASE_URL": url]))
        #expect(result.status == 1, "\(result.errorOutput)")
        #expect(result.errorOutput.contains("of the dump (table `dup_t`)"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("duplicate primary or unique key in that table")
                || result.errorOutput.contains("the dump holds two rows with the same key in `dup_t`"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("\(display(url)) is unchanged."), "\(result.errorOutput)")
        #expect(try await fixture.summary(of: name) == before)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    @Test func aWrongPasswordSaysWhereItCameFrom() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)
        let withoutPassword = display(url)
        let wrong = "Wr0ng-\(UUID().uuidString.prefix(6))"
        let cases: [([String: String], String)] = [
            (["DEVBOX_DATABASE_URL": withoutPassword, "MYSQL_PWD": wrong], "The password came from MYSQL_PWD; fix it there"),
            (["DEVBOX_DATABASE_URL": withoutPassword.replacingOccurrences(of: "devbox@", with: "devbox:\(wrong)@")],
             "The password came from the URL in DEVBOX_DATABASE_URL; fix it there"),
        ]
        for (extra, origin) in cases {
            let result = try await devbox(["sync-db", "--file", fixture.sql], environment(fixture, extra))
            #expect(result.status == 1, "\(result.errorOutput)")
            #expect(result.errorOutput.contains("the database at \(withoutPassword) refused the user and password"), "\(result.errorOutput)")
            #expect(result.errorOutput.contains(origin), "\(result.errorOutput)")
            // What to do comes last, after "… is unchanged.".
            #expect(result.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("(MYSQL_PWD or DEVBOX_DATABASE_URL)."),
                    "\(result.errorOutput)")
            #expect(!result.errorOutput.contains(wrong) && !result.output.contains(wrong), "the wrong password was printed")
            #expect(try await fixture.summary(of: name) == before)
        }
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    @Test func aMissingFileSaysNoSuchFile() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let path = "/nonexistent-\(UUID().uuidString.prefix(8)).sql"
        let result = try await devbox(["sync-db", "--file", path], environment(fixture, ["DEVBOX_DATABASE_URL": url]))
        #expect(result.status == 1, "\(result.errorOutput)")
        #expect(result.errorOutput.contains("cannot read \(path): no such file or directory."), "\(result.errorOutput)")
        try await expectNothingLeft(fixture, name)
    }

    @Test func aNegativeKeepIsARangeError() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        for arguments in [["--keep", "-1"], ["--keep=-1"]] {
            let result = try await devbox(["sync-db", "--file", fixture.sql] + arguments, environment(fixture, ["DEVBOX_DATABASE_URL": url]))
            #expect(result.status == 2, "\(arguments): \(result.errorOutput)")
            #expect(result.errorOutput.contains("--keep must be 0 or more (it is -1)"), "\(arguments): \(result.errorOutput)")
            #expect(!result.errorOutput.contains("Missing value"), "\(arguments): \(result.errorOutput)")
        }
        #expect(try await value(fixture, "SHOW DATABASES LIKE '\(like(name))%'").isEmpty)
    }

    @Test(arguments: ["mysql", "sys", "information_schema", "performance_schema"])
    func theServersOwnDatabasesAreRefusedAtTheStart(database: String) async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let url = fixture.database.url(database)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        let tablesBefore = try await value(fixture, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '\(database)'")
        for arguments in [["sync-db", "--file", fixture.sql], ["db", "restore"], ["db", "snapshots"]] {
            let result = try await devbox(arguments, env)
            #expect(result.status == 1, "\(arguments): \(result.errorOutput)")
            #expect(result.errorOutput.contains("\(database) is the server's own database; an import replaces only an application's database."),
                    "\(arguments): \(result.errorOutput)")
            // Before anything started: nothing read, nothing created.
            #expect(!result.errorOutput.contains("import:"), "\(arguments): \(result.errorOutput)")
        }
        #expect(try await value(fixture, "SHOW DATABASES LIKE '\(like(database))\\_\\_%'").isEmpty)
        #expect(try await value(fixture, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '\(database)'") == tablesBefore)
    }

    @Test func aSixtyCharacterDatabaseNameWorksEndToEnd() async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 6)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture, length: 60)
        try #require(name.count == 60)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        #expect(try await fixture.summary(of: name) == fixture.tables)
        let small = try dump(fixture, "small.sql", withLine4: "INSERT INTO t1 VALUES (3);")
        let second = try await devbox(["sync-db", "--file", small, "--json"], env)
        #expect(second.status == 0, "\(second.errorOutput)")
        let report = try JSONSerialization.jsonObject(with: Data(second.standardOutput)) as? [String: Any] ?? [:]
        let snapshot = try #require(report["snapshot"] as? String, "\(second.output)")
        #expect(snapshot.count <= 64)
        #expect(try await value(fixture, "SELECT COUNT(*) FROM t1", in: name) == "3")

        let listed = try await devbox(["db", "snapshots", "--json"], env)
        #expect(listed.status == 0, "\(listed.errorOutput)")
        let snapshots = try JSONSerialization.jsonObject(with: Data(listed.standardOutput)) as? [[String: Any]] ?? []
        #expect(snapshots.map { $0["name"] as? String } == [snapshot], "\(listed.output)")
        let restored = try await devbox(["db", "restore"], env)
        #expect(restored.status == 0, "\(restored.errorOutput)")
        #expect(restored.output.contains("Restored \(snapshot)"), "\(restored.output)")
        #expect(try await fixture.summary(of: name) == fixture.tables)
        try await expectObjectsWork(fixture, name)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    /// The swap's last step (creating the dump's views) fails: tables go back, the previous
    /// views, triggers and routines are recreated, and no snapshot is left claiming the data.
    @Test func aSwapThatFailsAtTheLastStepIsUndoneWhole() async throws {
        let fixture = try await DumpFixture(tables: 2, rows: 30)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)
        let broken = try dump(fixture, "broken-view.sql", """
            CREATE TABLE t1 (id INT PRIMARY KEY);
            INSERT INTO t1 VALUES (1),(2);
            CREATE VIEW v_broken AS SELECT * FROM no_such_table;
            -- Dump completed on 2026-11-30
            """)
        let result = try await devbox(["sync-db", "--file", broken], env)
        #expect(result.status == 1, "\(result.errorOutput)")
        #expect(result.errorOutput.contains("the swap failed and was undone"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("\(display(url)) is unchanged."), "\(result.errorOutput)")
        #expect(try await fixture.summary(of: name) == before)
        try await expectObjectsWork(fixture, name)
        #expect(try await value(fixture, "SHOW DATABASES LIKE '\(like(name))\\_\\_snap\\_%'").isEmpty)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }

    @Test func helpShowsTheTimeStampConventionAndTheDatabaseVariable() async throws {
        let syncDB = try await CLI.run("devbox", ["sync-db", "--help"])
        #expect(syncDB.status == 0, "\(syncDB.errorOutput)")
        #expect(syncDB.output.contains("devbox sync-db --dump 2026-11-28T030000Z.sql.gz"), "\(syncDB.output)")
        #expect(!syncDB.output.contains("T0300Z"))
        for command in [["db", "snapshots"], ["db", "restore"]] {
            let help = try await CLI.run("devbox", command + ["--help"])
            #expect(help.status == 0, "\(command): \(help.errorOutput)")
            #expect(help.output.contains("DEVBOX_DATABASE_URL"), "\(command): \(help.output)")
        }
    }

    // MARK: 7. signals

    /// A devbox started in the background, to be signalled as a terminal or a service manager would.
    struct Running: Sendable {
        /// Holds the Process while it runs (its termination handler belongs to it).
        final class Handle: @unchecked Sendable {
            let process: Process
            init(_ process: Process) { self.process = process }
        }

        let pid: Int32
        let handle: Handle
        let finished: Task<(status: Int32, output: String, errorOutput: String), Never>

        init(_ arguments: [String], environment: [String: String]) throws {
            let process = Process()
            process.executableURL = BuildProducts.executable("devbox")
            process.arguments = arguments
            var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "NO_COLOR": "1", "TERM": "dumb",
                       "AWS_EC2_METADATA_DISABLED": "true"]
            env.merge(environment) { _, new in new }
            process.environment = env
            let stdout = Pipe(), stderr = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = FileHandle.nullDevice
            let exited = AsyncStream<Int32>.makeStream()
            process.terminationHandler = { exited.continuation.yield($0.terminationStatus) }
            try ChildProcess.spawn(process)
            pid = process.processIdentifier
            handle = Handle(process)
            let out = stdout.fileHandleForReading, err = stderr.fileHandleForReading
            finished = Task {
                async let output = Self.readAll(out)
                async let errorOutput = Self.readAll(err)
                var status: Int32 = -1
                for await code in exited.stream { status = code; break }
                return (status, await output, await errorOutput)
            }
        }

        static func readAll(_ handle: FileHandle) async -> String {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    let data = (try? handle.readToEnd()) ?? Data()
                    // Closed here: a Process with a termination handler keeps its pipes open otherwise.
                    try? handle.close()
                    continuation.resume(returning: String(decoding: data, as: UTF8.self))
                }
            }
        }

        /// Waits for the exit, killing the process after `limit`.
        func wait(limit: Duration = .seconds(30)) async -> (status: Int32, output: String, errorOutput: String) {
            let pid = pid
            let watchdog = Task {
                try await Task.sleep(for: limit)
                kill(pid, SIGKILL)
            }
            defer { watchdog.cancel() }
            return await finished.value
        }
    }

    struct Stop: Sendable, CustomTestStringConvertible {
        var signal: Int32
        var name: String
        var status: Int32
        var testDescription: String { name }
    }

    @Test(arguments: [Stop(signal: SIGTERM, name: "SIGTERM", status: 143), Stop(signal: SIGHUP, name: "SIGHUP", status: 129),
                      Stop(signal: SIGINT, name: "SIGINT", status: 130)])
    func aSignalDuringTheLoadDropsThePartialImport(_ stop: Stop) async throws {
        let fixture = try await DumpFixture(tables: 1, rows: 4)
        defer { Task { await fixture.remove() } }
        let (name, url) = target(fixture)
        let env = environment(fixture, ["DEVBOX_DATABASE_URL": url])
        try await loaded(fixture, url)
        let before = try await fixture.summary(of: name)
        // A row that takes 29 s to insert keeps the load busy until the signal comes.
        let slow = try dump(fixture, "slow.sql", """
            -- hand-written: a slow row
            CREATE TABLE slow (id INT PRIMARY KEY, v INT);
            INSERT INTO slow VALUES (1, SLEEP(29));
            -- Dump completed on 2026-11-30

            """)
        let running = try Running(["sync-db", "--file", slow], environment: env)
        let inShadow = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '\(name)__devbox_shadow' AND INFO LIKE '%SLEEP(29)%'"
        var loading = false
        for _ in 0..<100 where !loading {
            try await Task.sleep(for: .milliseconds(100))
            loading = try await value(fixture, inShadow) != "0"
        }
        #expect(loading, "the slow INSERT never started")
        kill(running.pid, stop.signal)
        let (status, output, errorOutput) = await running.wait()
        expectNoSecret(output, errorOutput)
        #expect(status == stop.status, "\(errorOutput)")
        #expect(errorOutput.contains("interrupted; the partial import was dropped. \(display(url)) is unchanged."), "\(errorOutput)")
        #expect(!output.contains("now holds"), "\(output)")
        // The statement it ran was stopped on the server too.
        var stillRunning = true
        for _ in 0..<20 where stillRunning {
            stillRunning = try await value(fixture, inShadow) != "0"
            if stillRunning { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(!stillRunning, "the slow INSERT still runs on the server")
        #expect(try await fixture.summary(of: name) == before)
        try await expectNothingLeft(fixture, name)
        await drop(fixture, name)
    }
}
