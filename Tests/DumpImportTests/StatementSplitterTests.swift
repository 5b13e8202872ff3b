import DumpImport
import Testing

@Suite struct StatementSplitterTests {
    /// Splits `text` fed in chunks of `size` bytes.
    func split(_ text: String, chunk size: Int = 1 << 16) throws -> [StatementSplitter.Statement] {
        var splitter = StatementSplitter()
        var statements: [StatementSplitter.Statement] = []
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + size)
            try splitter.feed(Array(bytes[offset..<end])) { statements.append($0) }
            offset = end
        }
        try splitter.finish { statements.append($0) }
        return statements
    }

    static let dump = """
        -- MariaDB dump 10.19  Distrib 10.11.6-MariaDB
        /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
        /*!40101 SET NAMES utf8mb4 */;
        # a hash comment
        /* a plain comment; with a semicolon */
        DROP TABLE IF EXISTS `t;x`;
        CREATE TABLE `t;x` (
          `id` int(11) NOT NULL,
          `note` text DEFAULT 'a;b',
          PRIMARY KEY (`id`)
        ) ENGINE=InnoDB;
        INSERT INTO `t;x` VALUES (1,'it''s; fine'),(2,'back\\\\slash\\'; still'),(3,"dq ; \\" x"),(4,'(paren')
        ;
        DELIMITER ;;
        /*!50003 CREATE*/ /*!50003 TRIGGER `trg` BEFORE INSERT ON `t;x` FOR EACH ROW BEGIN
          SET NEW.note = 'x;y';
        END */;;
        DELIMITER ;
        SELECT 1
        """

    @Test(arguments: [1, 2, 3, 7, 64, 1 << 16])
    func statementsSurviveAnyChunking(size: Int) throws {
        let statements = try split(Self.dump, chunk: size)
        let texts = statements.map { String(decoding: $0.bytes, as: UTF8.self) }
        #expect(texts.count == 7)
        #expect(texts[0] == "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */")
        #expect(texts[1] == "/*!40101 SET NAMES utf8mb4 */")
        #expect(texts[2] == "DROP TABLE IF EXISTS `t;x`")
        #expect(texts[3].hasPrefix("CREATE TABLE `t;x` (\n  `id`") && texts[3].hasSuffix(") ENGINE=InnoDB"))
        #expect(texts[4] == #"INSERT INTO `t;x` VALUES (1,'it''s; fine'),(2,'back\\slash\'; still'),(3,"dq ; \" x"),(4,'(paren')"#)
        #expect(statements[4].tuples == 4)
        #expect(statements[4].line == 12)
        #expect(texts[5].hasPrefix("/*!50003 CREATE*/ /*!50003 TRIGGER `trg`") && texts[5].hasSuffix("END */"))
        #expect(texts[5].contains("SET NEW.note = 'x;y';"))
        #expect(texts.last == "SELECT 1")
    }

    @Test func truncatedDumpsAreRefused() throws {
        #expect(throws: DumpError.truncated(line: 2, detail: "the dump ends inside a quoted string")) {
            try split("SELECT 1;\nINSERT INTO t VALUES ('open")
        }
        #expect(throws: DumpError.truncated(line: 1, detail: "the dump ends inside a /* comment */")) {
            try split("SELECT 1 /*! unfinished")
        }
    }

    @Test func oversizedStatementsAreRefused() throws {
        var splitter = StatementSplitter()
        splitter.maximumStatementBytes = 100
        #expect(throws: DumpError.statementTooLarge(line: 1, limit: 100)) {
            try splitter.feed(Array(("INSERT INTO t VALUES " + String(repeating: "(1),", count: 50)).utf8)) { _ in }
        }
    }
}
