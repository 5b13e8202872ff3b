import Foundation

/// A TOML value. Both tools' config files are TOML; TOMLKit (the mirror's TOML package) cannot be
/// resolved here because its test-only dependency is not mirrored, so this reader covers the
/// language minus dates: everything our config files use, with errors that name the line.
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table([String: TOMLValue])

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var integer: Int? { if case .integer(let value) = self { value } else { nil } }
    public var boolean: Bool? { if case .boolean(let value) = self { value } else { nil } }
    public var array: [TOMLValue]? { if case .array(let value) = self { value } else { nil } }
    public var table: [String: TOMLValue]? { if case .table(let value) = self { value } else { nil } }

    /// The value as a person would write it in a config file.
    public var text: String {
        switch self {
        case .string(let value): value
        case .integer(let value): String(value)
        case .float(let value): String(value)
        case .boolean(let value): String(value)
        case .array(let values): "[" + values.map(\.text).joined(separator: ", ") + "]"
        case .table(let table): "{" + table.keys.sorted().map { "\($0) = \(table[$0]!.text)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A TOML document that does not parse: where and why.
public struct TOMLError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The text breaks TOML's grammar.
        case syntax
        /// The bytes are not UTF-8 (TOML requires it): the first bad byte's offset from the start.
        case encoding(byteOffset: Int)
    }

    public var kind: Kind
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }

    public init(_ kind: Kind = .syntax, line: Int, message: String) {
        self.kind = kind
        self.line = line
        self.message = message
    }
}

/// A parsed document, and the line each key was set on (for errors about values).
public struct TOMLDocument: Sendable, Equatable {
    public var values: [String: TOMLValue]
    /// Keyed by the full dotted path, e.g. ["compose", "http_port"]; array-of-tables keys are not kept.
    public var lines: [[String]: Int]

    public func line(of key: [String]) -> Int? { lines[key] }
}

/// Parses TOML 1.0 documents (without date/time values) into a table.
public enum TOML {
    public static func parse(_ text: String) throws(TOMLError) -> [String: TOMLValue] {
        try document(text).values
    }

    public static func document(_ text: String) throws(TOMLError) -> TOMLDocument {
        var parser = TOMLParser(Array(text.unicodeScalars))
        let values = try parser.document()
        return TOMLDocument(values: values, lines: parser.lines)
    }

    /// Parses a file's bytes; bytes that are not UTF-8 are an `.encoding` error naming the line
    /// and the offset of the first bad byte.
    public static func document(bytes: [UInt8]) throws(TOMLError) -> TOMLDocument {
        try document(try text(fromUTF8: bytes))
    }

    static func text(fromUTF8 bytes: [UInt8]) throws(TOMLError) -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            case .error:
                let line = 1 + bytes[..<offset].count { $0 == UInt8(ascii: "\n") }
                let byte = "0x" + String(bytes[offset], radix: 16, uppercase: true)
                throw TOMLError(.encoding(byteOffset: offset), line: line,
                                message: "byte \(byte) at offset \(offset) is not UTF-8 (TOML files must be UTF-8)")
            }
        }
    }
}

struct TOMLParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    var line = 1
    var root: [String: TOMLValue] = [:]
    /// The line each plain key was assigned on.
    var lines: [[String]: Int] = [:]
    /// Tables defined by a header, which may not be defined again.
    var defined: Set<[String]> = []

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    mutating func advance() {
        if current == "\n" { line += 1 }
        index += 1
    }

    mutating func skipSpaces() {
        while let scalar = current, scalar == " " || scalar == "\t" { advance() }
    }

    /// Spaces, newlines and comments (inside arrays and between statements).
    mutating func skipBlank() {
        while let scalar = current {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                advance()
            } else if scalar == "#" {
                while let next = current, next != "\n" { advance() }
            } else {
                return
            }
        }
    }

    mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        if current == "#" { while let next = current, next != "\n" { advance() } }
        if current == "\r" { advance() }
        guard current == nil || current == "\n" else {
            throw fail("unexpected '\(current!)' after the value; put one key = value per line")
        }
    }

    mutating func document() throws(TOMLError) -> [String: TOMLValue] {
        var table: [String] = []
        while true {
            skipBlank()
            guard let scalar = current else { return root }
            if scalar == "[" {
                advance()
                let isArray = current == "["
                if isArray { advance() }
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard current == "]" else { throw fail("expected ']' to close the table header") }
                advance()
                if isArray {
                    guard current == "]" else { throw fail("expected ']]' to close the array-of-tables header") }
                    advance()
                    try appendTable(at: path)
                    // Keys below an array-of-tables header go into its newest element.
                    table = path + ["\u{0}last"]
                } else {
                    guard !defined.contains(path) else { throw fail("table [\(path.joined(separator: "."))] is defined twice") }
                    defined.insert(path)
                    try ensureTable(at: path)
                    table = path
                }
                try endOfLine()
            } else {
                let keyLine = line
                let path = try key()
                skipSpaces()
                guard current == "=" else { throw fail("expected '=' after the key \(path.joined(separator: "."))") }
                advance()
                skipSpaces()
                let value = try self.value()
                try assign(value, at: table + path)
                if !table.contains("\u{0}last") { lines[table + path] = keyLine }
                try endOfLine()
            }
        }
    }

    /// A dotted key: bare, "basic" or 'literal' parts.
    mutating func key() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            switch current {
            case "\"": parts.append(try basicString())
            case "'": parts.append(try literalString())
            default:
                var bare = ""
                while let scalar = current, scalar.properties.isASCIIHexDigit || ("a"..."z").contains(scalar)
                    || ("A"..."Z").contains(scalar) || scalar == "_" || scalar == "-" {
                    bare.unicodeScalars.append(scalar)
                    advance()
                }
                guard !bare.isEmpty else { throw fail(current.map { "unexpected '\($0)' where a key should be" } ?? "a key is missing") }
                parts.append(bare)
            }
            skipSpaces()
            guard current == "." else { return parts }
            advance()
        }
    }

    mutating func value() throws(TOMLError) -> TOMLValue {
        guard let scalar = current else { throw fail("a value is missing") }
        switch scalar {
        case "\"": return .string(try basicString())
        case "'": return .string(try literalString())
        case "[":
            advance()
            var values: [TOMLValue] = []
            while true {
                skipBlank()
                if current == "]" { advance(); return .array(values) }
                values.append(try value())
                skipBlank()
                if current == "," { advance(); continue }
                guard current == "]" else { throw fail("expected ',' or ']' in the array") }
            }
        case "{":
            advance()
            var table: [String: TOMLValue] = [:]
            skipSpaces()
            if current == "}" { advance(); return .table(table) }
            while true {
                let path = try key()
                skipSpaces()
                guard current == "=" else { throw fail("expected '=' in the inline table") }
                advance()
                skipSpaces()
                try Self.insert(try value(), at: path, into: &table, line: line)
                skipSpaces()
                if current == "," { advance(); continue }
                guard current == "}" else { throw fail("expected ',' or '}' in the inline table") }
                advance()
                return .table(table)
            }
        default:
            var token = ""
            while let next = current, !" \t\r\n,]}#".unicodeScalars.contains(next) {
                token.unicodeScalars.append(next)
                advance()
            }
            return try Self.scalarValue(token, line: line)
        }
    }

    static func scalarValue(_ token: String, line: Int) throws(TOMLError) -> TOMLValue {
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        let digits = token.replacingOccurrences(of: "_", with: "")
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            if let value = Int(digits.dropFirst(2), radix: radix) { return .integer(value) }
        }
        if let value = Int(digits) { return .integer(value) }
        if digits.contains(where: { ".eE".contains($0) }), let value = Double(digits) { return .float(value) }
        if token.count >= 8, token.contains("-"), token.first?.isNumber == true {
            throw TOMLError(line: line, message: "dates and times are not supported here; quote the value")
        }
        throw TOMLError(line: line, message: token.isEmpty ? "a value is missing"
            : "'\(token)' is not a TOML value (strings need quotes)")
    }

    mutating func basicString() throws(TOMLError) -> String {
        let multiline = starts(with: "\"\"\"")
        index += multiline ? 3 : 1
        if multiline { skipFirstNewline() }
        var result = ""
        while true {
            guard let scalar = current else { throw fail("a string is not closed") }
            // Quotes right before the closing three belong to the string ("""a""""" is 'a""').
            if multiline && starts(with: "\"\"\"\"") {
                result.unicodeScalars.append("\"")
                advance()
                continue
            }
            if multiline ? starts(with: "\"\"\"") : scalar == "\"" {
                index += multiline ? 3 : 1
                return result
            }
            if scalar == "\n" && !multiline { throw fail("a string is not closed before the end of the line") }
            if scalar == "\\" {
                advance()
                guard let escape = current else { throw fail("a string is not closed") }
                advance()
                switch escape {
                case "b": result.unicodeScalars.append("\u{8}")
                case "t": result.unicodeScalars.append("\t")
                case "n": result.unicodeScalars.append("\n")
                case "f": result.unicodeScalars.append("\u{C}")
                case "r": result.unicodeScalars.append("\r")
                case "e": result.unicodeScalars.append("\u{1B}")
                case "\"": result.unicodeScalars.append("\"")
                case "\\": result.unicodeScalars.append("\\")
                case "u", "U":
                    let count = escape == "u" ? 4 : 8
                    guard index + count <= scalars.count,
                          let code = UInt32(String(String.UnicodeScalarView(scalars[index..<index + count])), radix: 16),
                          let unicode = Unicode.Scalar(code) else { throw fail("invalid \\\(escape) escape") }
                    result.unicodeScalars.append(unicode)
                    index += count
                case _ where multiline && " \t\r\n".unicodeScalars.contains(escape):
                    // A line-ending backslash trims the newline and the whitespace after it.
                    while let next = current, " \t\r\n".unicodeScalars.contains(next) { advance() }
                default: throw fail("invalid escape \\\(escape) in a string")
                }
                continue
            }
            result.unicodeScalars.append(scalar)
            advance()
        }
    }

    mutating func literalString() throws(TOMLError) -> String {
        let multiline = starts(with: "'''")
        index += multiline ? 3 : 1
        if multiline { skipFirstNewline() }
        var result = ""
        while true {
            guard let scalar = current else { throw fail("a string is not closed") }
            if multiline && starts(with: "''''") {
                result.unicodeScalars.append("'")
                advance()
                continue
            }
            if multiline ? starts(with: "'''") : scalar == "'" {
                index += multiline ? 3 : 1
                return result
            }
            if scalar == "\n" && !multiline { throw fail("a string is not closed before the end of the line") }
            result.unicodeScalars.append(scalar)
            advance()
        }
    }

    mutating func skipFirstNewline() {
        if current == "\r" { advance() }
        if current == "\n" { advance() }
    }

    func starts(with text: String) -> Bool {
        var position = index
        for scalar in text.unicodeScalars {
            guard position < scalars.count, scalars[position] == scalar else { return false }
            position += 1
        }
        return true
    }

    // MARK: building the tree

    mutating func ensureTable(at path: [String]) throws(TOMLError) {
        try Self.update(&root, path: path, line: line) { _ throws(TOMLError) in }
    }

    mutating func appendTable(at path: [String]) throws(TOMLError) {
        let name = path.last!
        let line = line
        try Self.update(&root, path: Array(path.dropLast()), line: line) { (table: inout [String: TOMLValue]) throws(TOMLError) in
            switch table[name] {
            case nil: table[name] = .array([.table([:])])
            case .array(var items)?:
                items.append(.table([:]))
                table[name] = .array(items)
            default: throw TOMLError(line: line, message: "\(name) is not an array of tables")
            }
        }
    }

    mutating func assign(_ value: TOMLValue, at path: [String]) throws(TOMLError) {
        let line = line
        try Self.update(&root, path: Array(path.dropLast()), line: line) { (table: inout [String: TOMLValue]) throws(TOMLError) in
            guard table[path.last!] == nil else {
                throw TOMLError(line: line, message: "\(path.joined(separator: ".")) is set twice")
            }
            table[path.last!] = value
        }
    }

    /// Walks (creating tables on the way) to `path` and lets `body` change the table there. An
    /// array of tables on the way means its last element, as TOML's `[[x]]` then `[x.y]` requires.
    static func update(_ table: inout [String: TOMLValue], path: [String], line: Int,
                       _ body: (inout [String: TOMLValue]) throws(TOMLError) -> Void) throws(TOMLError) {
        guard let first = path.first else { return try body(&table) }
        if first == "\u{0}last" { return try update(&table, path: Array(path.dropFirst()), line: line, body) }
        let rest = Array(path.dropFirst())
        switch table[first] {
        case nil:
            var child: [String: TOMLValue] = [:]
            try update(&child, path: rest, line: line, body)
            table[first] = .table(child)
        case .table(var child)?:
            try update(&child, path: rest, line: line, body)
            table[first] = .table(child)
        case .array(var items)? where items.last?.table != nil:
            var child = items.last!.table!
            try update(&child, path: rest.first == "\u{0}last" ? Array(rest.dropFirst()) : rest, line: line, body)
            items[items.count - 1] = .table(child)
            table[first] = .array(items)
        default:
            throw TOMLError(line: line, message: "\(first) already holds a value, so it cannot be a table")
        }
    }

    static func insert(_ value: TOMLValue, at path: [String], into table: inout [String: TOMLValue], line: Int) throws(TOMLError) {
        try update(&table, path: Array(path.dropLast()), line: line) { (inner: inout [String: TOMLValue]) throws(TOMLError) in
            guard inner[path.last!] == nil else { throw TOMLError(line: line, message: "\(path.last!) is set twice") }
            inner[path.last!] = value
        }
    }
}
