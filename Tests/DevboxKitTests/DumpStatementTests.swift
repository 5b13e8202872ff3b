import DevboxKit
import Nuvola
import Testing

@Suite struct DumpStatementTests {
    func kind(_ sql: String) -> DumpStatementKind { DumpStatementKind.classify(Array(sql.utf8)) }

    @Test func classifiesWhatMysqldumpWrites() {
        #expect(kind("INSERT INTO `t01_events` VALUES (1),(2)") == .insert(table: "t01_events"))
        #expect(kind("INSERT  INTO orders (a, b) VALUES (1,2)") == .insert(table: "orders"))
        #expect(kind("REPLACE INTO `we``ird` VALUES (1)") == .insert(table: "we`ird"))
        #expect(kind("INSERT INTO `prod`.`Customer` VALUES (1)") == .insert(table: "Customer"))
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
        #expect(kind("ALTER TABLE t ADD COLUMN c INT") == .other)
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
        #expect(throws: SyncError.self) { try DatabaseURL("postgres://a@b/c") }
        let missing = #expect(throws: SyncError.self) { try DatabaseURL("mysql://app:secret@127.0.0.1") }
        #expect(missing?.message.contains("secret") == false)
    }

    @Test func sanitizeRulesReadFromConfig() throws {
        let document = try TOML.parse("""
            [[sanitize]]
            table = "customer"
            column = "email"
            action = "email"
            [[sanitize]]
            table = "customer"
            column = "password"
            action = "value"
            value = "x'y"
            """)
        let rules = try SanitizeRule.rules(from: document, file: "f.toml")
        #expect(rules == [SanitizeRule(table: "customer", column: "email", action: .email),
                          SanitizeRule(table: "customer", column: "password", action: .value, value: "x'y")])
        let bad = try TOML.parse("[[sanitize]]\ntable = \"t\"\ncolumn = \"c\"\naction = \"shred\"")
        let error = #expect(throws: ConfigError.self) { try SanitizeRule.rules(from: bad, file: "f.toml") }
        #expect(error?.message == "f.toml: sanitize rule 1 has action \"shred\"; use one of hash, email, blank, null, value.")
    }
}
