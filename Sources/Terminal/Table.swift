/// A table of aligned columns, for human output. Numeric-looking columns align right.
public struct Table: Sendable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as lines joined by newlines, headers in bold when colour is on.
    public func render(_ policy: ColorPolicy = ColorPolicy(enabled: false)) -> String {
        let columns = headers.count
        var widths = headers.map { visibleText($0).count }
        for row in rows {
            for (index, cell) in row.prefix(columns).enumerated() {
                widths[index] = max(widths[index], visibleText(cell).count)
            }
        }
        let numeric = (0..<columns).map { column in
            !rows.isEmpty && rows.allSatisfy { row in
                column >= row.count || row[column].isEmpty || Double(visibleText(row[column])) != nil
            }
        }
        func line(_ cells: [String], header: Bool) -> String {
            var parts: [String] = []
            for index in 0..<columns {
                let cell = index < cells.count ? cells[index] : ""
                let padding = String(repeating: " ", count: widths[index] - visibleText(cell).count)
                let styled = header ? Style.bold.apply(cell, policy) : cell
                let isLast = index == columns - 1
                if numeric[index] && !header {
                    parts.append(padding + styled)
                } else {
                    parts.append(isLast ? styled : styled + padding)
                }
            }
            var text = parts.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        return ([line(headers, header: true)] + rows.map { line($0, header: false) }).joined(separator: "\n")
    }
}
