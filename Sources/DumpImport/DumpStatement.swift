/// What a dump statement is, as far as loading it safely and in parallel is concerned. A dump is
/// data, not a script run with the loader's privileges: only the statements `mysqldump`,
/// `mariadb-dump` and `mydumper` write, on the dump's own (unqualified) tables, are loaded;
/// anything else is refused with its line before it runs.
public enum DumpStatementKind: Equatable, Sendable {
    /// Row data: goes to a loader connection.
    case insert(table: String)
    case createTable(table: String)
    case dropTable(table: String)
    /// `ALTER TABLE t ...` or `CREATE INDEX ... ON t`: run in order on the DDL connection.
    case alterTable(table: String)
    /// `SET ...`: session state, replayed on every loader connection.
    case session
    /// Views, triggers, routines and events: created in the real database after the swap, in
    /// dump order (they name tables by database, so they cannot be built in the shadow).
    case object
    /// Meaningless for a parallel load into another database (LOCK/UNLOCK TABLES, USE,
    /// CREATE/DROP DATABASE, DISABLE/ENABLE KEYS, transactions, mysqldump's GTID_PURGED).
    case ignored
    /// A scheduled event (`mysqldump --events`): not created, since it would run on this server on
    /// its own schedule with the importing user's rights.
    case event
    /// Not something a dump tool writes, or aimed outside the dump's own tables: never run.
    case refused(reason: String)

    /// Classifies by the statement's first words, reading through executable comments
    /// (`/*!50003 CREATE*/ /*!50017 DEFINER=...*/ /*!50003 TRIGGER ...`).
    public static func classify(_ bytes: [UInt8]) -> DumpStatementKind {
        let read = classify(Reading(bytes: bytes, unwrapping: true))
        // A server skips executable comments above its version: both readings must agree
        // (or the comments be all there is, as in mysqldump's `/*!40101 SET ... */`).
        guard bytes.contains(UInt8(ascii: "!")) else { return read }
        let plainWords = leadingWords(bytes, limit: 12, unwrapping: false)
        guard !plainWords.isEmpty else { return read }
        let plain = classify(Reading(bytes: bytes, unwrapping: false))
        if plain == read { return read }
        if case .refused = read { return read }
        return .refused(reason: "its executable comments make it a different statement on servers of other versions")
    }

    /// One way of reading a statement's words (executable comments unwrapped or skipped).
    struct Reading {
        let bytes: [UInt8]
        let unwrapping: Bool

        /// Upper-cased except backquoted identifiers.
        func words(limit: Int) -> [String] {
            leadingWords(bytes, limit: limit, unwrapping: unwrapping).map { $0.hasPrefix("`") ? $0 : $0.uppercased() }
        }
    }

    static func classify(_ reading: Reading) -> DumpStatementKind {
        let original = leadingWords(reading.bytes, limit: 12, unwrapping: reading.unwrapping)
        let words = original.map { $0.hasPrefix("`") ? $0 : $0.uppercased() }
        guard let first = words.first else { return .ignored }
        switch first {
        case "INSERT", "REPLACE":
            guard let into = words.firstIndex(where: { $0 == "INTO" }), into + 1 < words.count else {
                return .refused(reason: "an INSERT without INTO")
            }
            return table(original[into + 1]) { .insert(table: $0) }
        case "SET":
            // Every assignment counts, not only the first few: `SET @a = 1, ..., GLOBAL x = 1`.
            return session(words.count < 12 ? words : reading.words(limit: 1000))
        case "LOCK", "UNLOCK", "USE", "BEGIN", "COMMIT", "ROLLBACK":
            return .ignored
        case "START" where words.count > 1 && words[1] == "TRANSACTION":
            return .ignored
        case "ALTER" where words.count > 2 && words[1] == "TABLE":
            if words.contains("DISABLE") || words.contains("ENABLE") { return .ignored }
            return table(original[2]) { .alterTable(table: $0) }
        case "CREATE", "DROP":
            return definition(first, words, original, reading)
        default:
            return .refused(reason: "\(first) is not a statement dump tools write")
        }
    }

    /// CREATE/DROP of a table, an object (view, trigger, routine, event), a database, an index.
    static func definition(_ verb: String, _ words: [String], _ original: [String], _ reading: Reading) -> DumpStatementKind {
        for (index, word) in words.enumerated().dropFirst() {
            switch word {
            case "TABLE":
                var name = index + 1
                while name < words.count, ["IF", "NOT", "EXISTS"].contains(words[name]) { name += 1 }
                guard name < words.count else { return .refused(reason: "a \(verb) TABLE without a name") }
                return table(original[name]) { verb == "CREATE" ? .createTable(table: $0) : .dropTable(table: $0) }
            case "FUNCTION" where reading.words(limit: 60).contains("SONAME"):
                return .refused(reason: "CREATE FUNCTION ... SONAME loads a library into the server")
            case "EVENT":
                return .event
            case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION":
                var name = index + 1
                while name < words.count, ["IF", "NOT", "EXISTS"].contains(words[name]) { name += 1 }
                guard name < words.count else { return .object }
                return table(original[name]) { _ in .object }
            case "DATABASE", "SCHEMA":
                return .ignored
            case "INDEX" where verb == "CREATE":
                guard let on = words.firstIndex(of: "ON"), on + 1 < words.count else { return .refused(reason: "an index without ON") }
                return table(original[on + 1]) { .alterTable(table: $0) }
            case "USER", "ROLE", "SERVER", "TABLESPACE", "LOGFILE":
                return .refused(reason: "\(verb) \(word) is not something a dump of one database contains")
            default:
                continue
            }
        }
        return .refused(reason: "this \(verb) statement is not one dump tools write")
    }

    /// `SET` of session state; global or persistent settings, passwords, roles and subqueries are
    /// refused (mysqldump's `SET @@GLOBAL.GTID_PURGED` is skipped: it is about the source server).
    static func session(_ words: [String]) -> DumpStatementKind {
        if words.contains(where: { $0.hasPrefix("@@GLOBAL.GTID_PURGED") }) { return .ignored }
        let forbidden = ["GLOBAL", "PERSIST", "PERSIST_ONLY", "PASSWORD", "ROLE", "SELECT", "INTO", "STATEMENT"]
        if let word = words.first(where: { word in forbidden.contains(word) || word.hasPrefix("@@GLOBAL.") || word.hasPrefix("@@PERSIST") }) {
            return .refused(reason: "SET \(word) changes more than this import's session")
        }
        return .session
    }

    /// `make` with the table's name, or refused when the name is qualified by a database: a dump
    /// may only write its own tables, which live in whatever database it is loaded into.
    static func table(_ word: String, _ make: (String) -> DumpStatementKind) -> DumpStatementKind {
        let (schema, name) = qualifiedName(word)
        if let schema { return .refused(reason: "it names another database (`\(schema)`.`\(name)`); a dump may only write its own tables") }
        return make(name)
    }

    /// The rows an INSERT adds: its tuples, less the column list of `INSERT INTO t (a, b) VALUES`.
    public static func rows(in statement: StatementSplitter.Statement) -> Int {
        let words = leadingWords(statement.bytes, limit: 6).map { $0.uppercased() }
        guard let into = words.firstIndex(of: "INTO"), into + 2 < words.count, words[into + 2] == "(" else { return statement.tuples }
        return statement.tuples - 1
    }

    /// The first words as written (backquoted identifiers keep their quotes). Comments are
    /// skipped; executable comments (`/*!50003 ... */`, MariaDB's `/*M!100100 ... */`) are read
    /// through when `unwrapping`, else skipped like any comment — the two readings a server may
    /// make of them, depending on its version. One loop over the bytes, like the splitter's scan:
    /// quotes, comments and executable comments share its position, which helpers would pass around.
    static func leadingWords(_ bytes: [UInt8], limit: Int, unwrapping: Bool = true) -> [String] {
        var words: [String] = []
        var word: [UInt8] = []
        var index = 0
        var inQuote = false
        func flush() {
            guard !word.isEmpty else { return }
            let text = String(decoding: word, as: UTF8.self)
            words.append(text)
            word.removeAll()
        }
        func at(_ text: String) -> Bool {
            let pattern = Array(text.utf8)
            return index + pattern.count <= bytes.count && Array(bytes[index..<index + pattern.count]) == pattern
        }
        func skip(through end: String) {
            while index < bytes.count, !at(end) { index += 1 }
            index = min(bytes.count, index + end.utf8.count)
        }
        while index < bytes.count, index < 4096, words.count < limit {
            let byte = bytes[index]
            if inQuote {
                word.append(byte)
                if byte == UInt8(ascii: "`") { inQuote = false }
                index += 1
                continue
            }
            if at("/*!") || at("/*M!") {
                flush()
                if !unwrapping {
                    skip(through: "*/")
                    continue
                }
                index += at("/*M!") ? 4 : 3
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                continue
            }
            if at("/*") {
                flush()
                skip(through: "*/")
                continue
            }
            if at("#") || at("-- ") || at("--\t") || at("--\n") {
                flush()
                skip(through: "\n")
                continue
            }
            if at("*/") {
                flush()
                index += 2
                continue
            }
            switch byte {
            case UInt8(ascii: "`"):
                // `db`.`table` and `a``b` stay one word.
                if word.last != UInt8(ascii: ".") && word.last != UInt8(ascii: "`") { flush() }
                word.append(byte)
                inQuote = true
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "("), UInt8(ascii: "="), UInt8(ascii: ","):
                flush()
                if byte == UInt8(ascii: "(") { words.append("(") }
            default:
                word.append(byte)
            }
            index += 1
        }
        flush()
        return words
    }

    /// `` `my``table` `` → my`table; `` `db`.`t` `` and `db.t` → ("db", "t").
    static func qualifiedName(_ word: String) -> (schema: String?, name: String) {
        func unquote(_ text: Substring) -> String {
            if text.hasPrefix("`") && text.hasSuffix("`") && text.count >= 2 {
                return text.dropFirst().dropLast().replacingOccurrences(of: "``", with: "`")
            }
            return String(text)
        }
        if let dot = word.range(of: "`.`") {
            return (unquote(Substring(word[..<dot.lowerBound] + "`")), unquote(Substring("`" + word[dot.upperBound...])))
        }
        if !word.hasPrefix("`"), let dot = word.firstIndex(of: ".") {
            return (unquote(word[..<dot]), unquote(word[word.index(after: dot)...]))
        }
        if word.hasPrefix("`"), let close = word.dropFirst().firstIndex(of: "`"), word[word.index(after: close)...].hasPrefix(".") {
            // `db`.t
            return (unquote(word[...close]), unquote(word[word.index(close, offsetBy: 2)...]))
        }
        return (nil, unquote(Substring(word)))
    }

    /// The table a name refers to, without its database.
    static func identifier(_ word: String) -> String { qualifiedName(word).name }
}
