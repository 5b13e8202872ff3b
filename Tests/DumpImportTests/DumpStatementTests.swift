import DumpImport
import Testing

@Suite struct DumpStatementTests {
    func kind(_ sql: String) -> DumpStatementKind { DumpStatementKind.classify(Array(sql.utf8)) }

    @Test func classifiesWhatMysqldumpWrites() {
        #expect(kind("INSERT INTO `t01_events` VALUES (1),(2)") == .insert(table: "t01_events"))
        #expect(kind("INSERT  INTO orders (a, b) VALUES (1,2)") == .insert(table: "orders"))
        #expect(kind("REPLACE INTO `we``ird` VALUES (1)") == .insert(table: "we`ird"))
        #expect(kind("CREATE TABLE `kept` (\n  `id` int)") == .createTable(table: "kept"))
        #expect(kind("CREATE TABLE IF NOT EXISTS Kept (id int)") == .createTable(table: "Kept"))
        #expect(kind("DROP TABLE IF EXISTS `t`") == .dropTable(table: "t"))
        #expect(kind("/*!40101 SET NAMES utf8mb4 */") == .session)
        #expect(kind("SET @saved_cs_client     = @@character_set_client") == .session)
        #expect(kind("LOCK TABLES `t` WRITE") == .ignored)
        #expect(kind("UNLOCK TABLES") == .ignored)
        #expect(kind("/*!40000 ALTER TABLE `t` DISABLE KEYS */") == .ignored)
        #expect(kind("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `prod`") == .ignored)
        #expect(kind("USE `prod`") == .ignored)
        #expect(kind("/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg AFTER UPDATE ON t FOR EACH ROW SET @x = 1 */") == .object)
        #expect(kind("/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */ /*!50001 VIEW `v` AS select 1 */") == .object)
        #expect(kind("/*!50001 DROP VIEW IF EXISTS `v`*/") == .object)
        #expect(kind("CREATE DEFINER=`root`@`localhost` PROCEDURE `p`() BEGIN SELECT 1; END") == .object)
        #expect(kind("/*!50003 DROP FUNCTION IF EXISTS `f` */") == .object)
        #expect(kind("ALTER TABLE t ADD COLUMN c INT") == .alterTable(table: "t"))
    }

    /// A dump is data: what dump tools do not write, or what names another database, never runs.
    @Test func refusesWhatDumpToolsDoNotWriteAndOtherDatabases() {
        func refused(_ sql: String) -> Bool { if case .refused = kind(sql) { true } else { false } }
        for sql in ["INSERT INTO otherdb.victim VALUES (1)", "INSERT INTO `otherdb`.`victim` VALUES (1)",
                    "REPLACE INTO `otherdb`.victim VALUES (1)", "DROP TABLE IF EXISTS otherdb.victim",
                    "CREATE TABLE otherdb.pwn2 (id int)", "CREATE TABLE `otherdb`.`pwn2` (id int)",
                    "ALTER TABLE `otherdb`.`t` ADD COLUMN c INT", "CREATE INDEX i ON otherdb.t (c)",
                    "PREPARE s FROM 'DELETE FROM otherdb.victim'", "EXECUTE s", "DEALLOCATE PREPARE s",
                    "SELECT * FROM t INTO OUTFILE '/tmp/x'", "SELECT 1", "RENAME TABLE t1 TO otherdb.moved",
                    "CREATE USER 'evil'@'%' IDENTIFIED BY 'x'", "GRANT ALL ON *.* TO 'evil'@'%'", "DELETE FROM t",
                    "UPDATE t SET a = 1", "TRUNCATE TABLE t", "CALL p()", "DO SLEEP(10)", "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
                    "SET GLOBAL max_connections = 1", "SET @@GLOBAL.read_only = 1", "SET PASSWORD = PASSWORD('x')",
                    "SET @x = (SELECT COUNT(*) FROM otherdb.victim)", "SET PERSIST max_connections = 1", "SET ROLE ALL",
                    "/*!50001 DROP VIEW IF EXISTS `otherdb`.`v`*/", "INSTALL PLUGIN x SONAME 'x.so'", "SHUTDOWN", "KILL 1",
                    "FLUSH PRIVILEGES", "HANDLER t OPEN", "CREATE /*!99999 VIEW v */ USER 'evil'@'%'",
                    "/*!99999 SET @x = 1 */ DROP DATABASE otherdb", "CREATE /* VIEW */ USER 'evil'@'%'",
                    "CREATE -- VIEW\n USER 'evil'@'%'", "CREATE /*M!999999 VIEW v */ USER x", "/*!50000 INSERT INTO t */ DELETE FROM t",
                    "SET @a=1, @b=2, @c=3, @d=4, @e=5, @f=6, GLOBAL net_read_timeout = 31",
                    "SET @a=1, @b=2, @c=3, @d=4, @e=5, @f=6, PASSWORD FOR 'root'@'localhost' = PASSWORD('x')",
                    "CREATE FUNCTION pwn_udf RETURNS STRING SONAME 'ha_example.so'",
                    "CREATE AGGREGATE FUNCTION pwn_udf RETURNS INTEGER SONAME 'ha_example.so'", "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'x')"] {
            #expect(refused(sql), "\(sql) should be refused")
        }
        // What mysqldump writes that touches no other database stays accepted.
        #expect(kind("/*!40103 SET TIME_ZONE='+00:00' */") == .session)
        #expect(kind("/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */") == .session)
        #expect(kind("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5'") == .ignored)
        #expect(kind("SET @@SESSION.SQL_LOG_BIN= 0") == .session)
        #expect(kind("CREATE INDEX `i` ON `t` (`c`)") == .alterTable(table: "t"))
        #expect(kind("DROP DATABASE IF EXISTS `prod`") == .ignored)
        #expect(kind("/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`%`*/ /*!50106 EVENT `purge` ON SCHEDULE EVERY 1 DAY DO DELETE FROM otherdb.t */") == .event)
        #expect(kind("/*!50106 DROP EVENT IF EXISTS `purge` */") == .event)
    }

    @Test func rowsOfAnInsertLeaveOutTheColumnList() {
        var splitter = StatementSplitter()
        var statements: [StatementSplitter.Statement] = []
        try? splitter.feed(Array("INSERT INTO t (a, b) VALUES (1,2),(3,4);\nINSERT INTO t VALUES (5,6);\n".utf8)) { statements.append($0) }
        #expect(statements.map(DumpStatementKind.rows(in:)) == [2, 1])
    }

    @Test func definersAreDropped() {
        #expect(DumpObjects.withoutDefiner("/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER x") == "/*!50003 CREATE*/  /*!50003 TRIGGER x")
        #expect(DumpObjects.withoutDefiner("CREATE DEFINER=`app`@`%` PROCEDURE `p`()") == "CREATE  PROCEDURE `p`()")
        #expect(DumpObjects.withoutDefiner("/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */") == "/*!50013  SQL SECURITY DEFINER */")
    }

    @Test func secondaryIndexesAndForeignKeysCanWaitForTheRows() {
        let create = """
            CREATE TABLE `orders` (
              `id` bigint NOT NULL AUTO_INCREMENT,
              `customer_id` int NOT NULL,
              `email` varchar(100) NOT NULL,
              PRIMARY KEY (`id`),
              UNIQUE KEY `email` (`email`),
              KEY `customer` (`customer_id`),
              CONSTRAINT `fk_customer` FOREIGN KEY (`customer_id`) REFERENCES `customer` (`id`)
            ) ENGINE=InnoDB
            """
        let split = TableDefinition.deferringIndexes(create, table: "orders")
        #expect(split.create == """
            CREATE TABLE `orders` (
              `id` bigint NOT NULL AUTO_INCREMENT,
              `customer_id` int NOT NULL,
              `email` varchar(100) NOT NULL,
              PRIMARY KEY (`id`)
            ) ENGINE=InnoDB
            """)
        #expect(split.indexes == "ALTER TABLE `orders` ADD UNIQUE KEY `email` (`email`), ADD KEY `customer` (`customer_id`)")
        #expect(split.foreignKeys == "ALTER TABLE `orders` ADD CONSTRAINT `fk_customer` FOREIGN KEY (`customer_id`) REFERENCES `customer` (`id`)")

        // No primary key: InnoDB would pick another clustered index; left whole.
        let heap = "CREATE TABLE `h` (\n  `a` int,\n  KEY `a` (`a`)\n)"
        #expect(TableDefinition.deferringIndexes(heap, table: "h").create == heap)
        // The AUTO_INCREMENT column's own key must stay.
        let auto = "CREATE TABLE `x` (\n  `n` int NOT NULL AUTO_INCREMENT,\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `n` (`n`),\n  KEY `other` (`id`)\n)"
        let kept = TableDefinition.deferringIndexes(auto, table: "x")
        #expect(kept.create.contains("KEY `n` (`n`)"))
        #expect(kept.indexes == "ALTER TABLE `x` ADD KEY `other` (`id`)")
    }

    @Test func missingCollationsAreTranslated() {
        let available: Set<String> = ["utf8mb4_unicode_ci", "utf8mb4_unicode_520_ci", "utf8mb4_bin", "utf8mb4_general_ci", "latin1_swedish_ci"]
        let (text, changes) = TableDefinition.translatingCollations(
            "CREATE TABLE t (a varchar(10) COLLATE utf8mb4_0900_ai_ci, b text COLLATE utf8mb4_0900_as_cs) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci",
            available: available)
        #expect(text == "CREATE TABLE t (a varchar(10) COLLATE utf8mb4_unicode_520_ci, b text COLLATE utf8mb4_bin) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci")
        #expect(changes == ["utf8mb4_0900_ai_ci": "utf8mb4_unicode_520_ci", "utf8mb4_0900_as_cs": "utf8mb4_bin"])
        let untouched = "CREATE TABLE t (a int) COLLATE=utf8mb4_unicode_ci"
        #expect(TableDefinition.translatingCollations(untouched, available: available).0 == untouched)
    }

    @Test func databaseURLs() throws {
        let url = try DatabaseURL("mysql://app:p%40ss@127.0.0.1:3307/nuvola")
        #expect(url.endpoint.user == "app" && url.endpoint.password == "p@ss" && url.endpoint.port == 3307 && url.database == "nuvola")
        #expect(url.isLocal && url.display == "mysql://app@127.0.0.1:3307/nuvola")
        #expect(try DatabaseURL("mysql://app@localhost/db").isLocal)
        #expect(try !DatabaseURL("mysql://app@db.internal:3306/db").isLocal)
        #expect(throws: ImportError.self) { try DatabaseURL("postgres://a@b/c") }
        let missing = #expect(throws: ImportError.self) { try DatabaseURL("mysql://app:secret@127.0.0.1") }
        #expect(missing?.message.contains("secret") == false)
    }
}
