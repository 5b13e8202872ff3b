/// Rewrites of a dump's DDL before it runs on the local server.
public enum TableDefinition {
    /// Splits a `CREATE TABLE` (one definition per line, as mysqldump writes it) into the table
    /// with only its primary key, and what to add once the rows are in: secondary indexes in one
    /// `ALTER TABLE`, foreign keys in another. Building an index once over sorted data is much
    /// faster than maintaining it row by row. Tables without a primary key, or whose
    /// AUTO_INCREMENT column needs a secondary key, are left whole: InnoDB would otherwise pick
    /// another clustered index or refuse the table.
    public static func deferringIndexes(_ statement: String, table: String) -> (create: String, indexes: String?, foreignKeys: String?) {
        var lines = statement.components(separatedBy: "\n")
        guard lines.count > 2, lines.contains(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("PRIMARY KEY") }) else {
            return (statement, nil, nil)
        }
        let autoIncrementColumn = lines.first { $0.contains(" AUTO_INCREMENT") && $0.trimmingCharacters(in: .whitespaces).hasPrefix("`") }
            .flatMap { $0.split(separator: "`").dropFirst().first.map(String.init) }
        var indexes: [String] = []
        var foreignKeys: [String] = []
        var kept: [String] = []
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let definition = trimmed.hasSuffix(",") ? String(trimmed.dropLast()) : trimmed
            let isIndex = ["KEY ", "INDEX ", "UNIQUE KEY ", "UNIQUE INDEX ", "FULLTEXT KEY ", "FULLTEXT INDEX ", "SPATIAL KEY ", "SPATIAL INDEX "]
                .contains { trimmed.hasPrefix($0) }
            if isIndex, !(autoIncrementColumn.map { definition.contains("`\($0)`") } ?? false) {
                indexes.append(definition)
            } else if trimmed.hasPrefix("CONSTRAINT ") && trimmed.contains(" FOREIGN KEY ") {
                foreignKeys.append(definition)
            } else {
                kept.append(line)
            }
        }
        guard !indexes.isEmpty || !foreignKeys.isEmpty else { return (statement, nil, nil) }
        // The definition before the closing line must not end with a comma any more.
        if let close = kept.lastIndex(where: { $0.hasPrefix(")") }), close > 0 {
            var previous = kept[close - 1]
            while previous.hasSuffix(",") || previous.hasSuffix(" ") { previous.removeLast() }
            kept[close - 1] = previous
        }
        lines = kept
        let name = "`" + table.replacingOccurrences(of: "`", with: "``") + "`"
        let alter = { (parts: [String]) in parts.isEmpty ? nil : "ALTER TABLE \(name) " + parts.map { "ADD \($0)" }.joined(separator: ", ") }
        return (lines.joined(separator: "\n"), alter(indexes), alter(foreignKeys))
    }

    /// Replaces collations the server lacks (MySQL 8's `utf8mb4_0900_*` on MariaDB, say) with
    /// the closest it has. Returns the statement and the replacements made.
    public static func translatingCollations(_ statement: String, available: Set<String>) -> (String, [String: String]) {
        guard !available.isEmpty, statement.range(of: "COLLATE", options: .caseInsensitive) != nil
                || statement.range(of: "_0900_", options: .literal) != nil else { return (statement, [:]) }
        var replacements: [String: String] = [:]
        var result = ""
        var word = ""
        func flush() {
            if !word.isEmpty, word.contains("_"), !available.contains(word.lowercased()), let replacement = substitute(word.lowercased(), available) {
                replacements[word] = replacement
                result += replacement
            } else {
                result += word
            }
            word = ""
        }
        // Only bare words that look like collation names (charset_..._ci/_cs/_bin) are candidates.
        for character in statement {
            if character.isLetter || character.isNumber || character == "_" {
                word.append(character)
            } else {
                if Self.looksLikeCollation(word) { flush() } else { result += word; word = "" }
                result.append(character)
            }
        }
        if Self.looksLikeCollation(word) { flush() } else { result += word }
        return (result, replacements)
    }

    static func looksLikeCollation(_ word: String) -> Bool {
        let lower = word.lowercased()
        return (lower.hasSuffix("_ci") || lower.hasSuffix("_cs") || lower.hasSuffix("_bin") || lower.hasSuffix("_as_ci")
                || lower.hasSuffix("_ai_ci"))
            && ["utf8mb4_", "utf8mb3_", "utf8_", "latin1_", "ascii_", "binary"].contains { lower.hasPrefix($0) }
    }

    static func substitute(_ collation: String, _ available: Set<String>) -> String? {
        let charset = collation.hasPrefix("utf8mb4_") ? "utf8mb4" : String(collation.split(separator: "_").first ?? "")
        let wanted: [String] = if collation.hasSuffix("_bin") || collation.contains("_as_cs") {
            ["\(charset)_bin"]
        } else {
            ["\(charset)_unicode_520_ci", "\(charset)_unicode_ci", "\(charset)_general_ci"]
        }
        return wanted.first { available.contains($0) }
    }
}
