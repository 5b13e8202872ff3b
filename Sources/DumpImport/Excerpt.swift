import Terminal

/// The part of a dump statement an error shows: its start, on one line, with control
/// characters escaped (a dump is input, and may carry terminal escape codes).
enum Excerpt {
    static func of(_ statement: String, limit: Int = 160) -> String {
        let shortened = statement.count > limit ? String(statement.prefix(limit)) + "…" : statement
        return Printable.escaping(shortened)
    }
}
