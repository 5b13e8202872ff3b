/// What a dump statement is, as far as loading it in parallel is concerned.
public enum DumpStatementKind: Equatable, Sendable {
    /// Row data: goes to a loader connection.
    case insert(table: String)
    case createTable(table: String)
    case dropTable(table: String)
    /// `SET ...`: session state, replayed on every loader connection.
    case session
    /// Views, triggers, routines and events: created in the real database after the swap, in
    /// dump order (they name tables by database, so they cannot be built in the shadow).
    case object
    /// Meaningless for a parallel load into another database (LOCK/UNLOCK TABLES, USE,
    /// CREATE DATABASE, DISABLE/ENABLE KEYS, transactions).
    case ignored
    /// Anything else, run in order on the control connection.
    case other

    /// Classifies by the statement's first words, reading through executable comments
    /// (`/*!50003 CREATE*/ /*!50017 DEFINER=...*/ /*!50003 TRIGGER ...`).
    public static func classify(_ bytes: [UInt8]) -> DumpStatementKind {
        let original = leadingWords(bytes, limit: 12)
        let words = original.map { $0.hasPrefix("`") ? $0 : $0.uppercased() }
        guard let first = words.first else { return .ignored }
        switch first {
        case "INSERT", "REPLACE":
            guard let into = words.firstIndex(where: { $0 == "INTO" }), into + 1 < words.count else { return .other }
            return .insert(table: identifier(original[into + 1]))
        case "SET":
            return .session
        case "LOCK", "UNLOCK", "USE", "BEGIN", "COMMIT", "ROLLBACK":
            return .ignored
        case "START" where words.count > 1 && words[1] == "TRANSACTION":
            return .ignored
        case "ALTER" where words.contains("DISABLE") || words.contains("ENABLE"):
            return .ignored
        case "CREATE", "DROP":
            for (index, word) in words.enumerated().dropFirst() {
                switch word {
                case "TABLE":
                    var name = index + 1
                    while name < words.count, ["IF", "NOT", "EXISTS"].contains(words[name]) { name += 1 }
                    guard name < words.count else { return .other }
                    let table = identifier(original[name])
                    return first == "CREATE" ? .createTable(table: table) : .dropTable(table: table)
                case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT":
                    return .object
                case "DATABASE", "SCHEMA":
                    return .ignored
                default:
                    continue
                }
            }
            return .other
        default:
            return .other
        }
    }

    /// The first words as written (backquoted identifiers keep their quotes), with the markers
    /// of executable comments removed.
    static func leadingWords(_ bytes: [UInt8], limit: Int) -> [String] {
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
        while index < bytes.count, index < 4096, words.count < limit {
            let byte = bytes[index]
            if inQuote {
                word.append(byte)
                if byte == UInt8(ascii: "`") { inQuote = false }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "/"), index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "*"), bytes[index + 2] == UInt8(ascii: "!") {
                flush()
                index += 3
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                continue
            }
            if byte == UInt8(ascii: "*"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
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

    /// `` `my``table` `` → my`table; a `db`.`t` name keeps only the table.
    static func identifier(_ word: String) -> String {
        var text = Substring(word)
        if let dot = text.range(of: "`.`") { text = text[dot.upperBound...]; text = "`" + text }
        if text.hasPrefix("`") && text.hasSuffix("`") && text.count >= 2 {
            return text.dropFirst().dropLast().replacingOccurrences(of: "``", with: "`")
        }
        if let dot = text.lastIndex(of: ".") { return String(text[text.index(after: dot)...]) }
        return String(text)
    }
}
