/// Cuts a SQL dump (as `mysqldump`/`mariadb-dump` write them, or any script the mysql client
/// accepts) into statements, fed in chunks of any size. It understands what the client does:
/// quoted strings and identifiers with their escapes, `--`/`#`/`/* */` comments between
/// statements (executable `/*! */` comments are kept: the server runs them), and the
/// client-side `DELIMITER` command used around triggers and routines. For an INSERT it also
/// counts the row tuples (`VALUES (...),(...)`) so the import can verify row counts without
/// parsing again.
public struct StatementSplitter {
    /// One statement, without its delimiter.
    public struct Statement {
        public var bytes: [UInt8]
        /// Parenthesised groups at the top level: the rows of an extended INSERT.
        public var tuples: Int
        /// The dump line the statement starts on (1-based), for error messages.
        public var line: Int
    }

    enum State: Equatable {
        case normal
        case quoted(UInt8)
        case lineComment
        case blockComment(executable: Bool)
    }

    var state = State.normal
    var escaped = false
    var current: [UInt8] = []
    var delimiter: [UInt8] = [UInt8(ascii: ";")]
    var depth = 0
    var tuples = 0
    var line = 1
    var statementLine = 1
    /// Only whitespace and comments since the last statement: a comment or DELIMITER may start.
    var atStatementStart = true
    var atLineStart = true
    /// Bytes whose meaning depends on what follows them in the next chunk.
    var carry: [UInt8] = []
    /// The largest statement accepted; beyond it the dump is not what it claims to be.
    public var maximumStatementBytes = 1 << 30

    public init() {}

    /// Splits `chunk`, calling `emit` for each complete statement.
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ emit: (Statement) throws -> Void) throws {
        if carry.isEmpty {
            let used = try scan(chunk, final: false, emit)
            if used < chunk.count { carry = Array(chunk[used...]) }
        } else {
            let joined = carry + Array(chunk)
            carry = []
            try joined.withUnsafeBufferPointer { buffer in
                let used = try scan(buffer, final: false, emit)
                if used < buffer.count { carry = Array(buffer[used...]) }
            }
        }
    }

    public mutating func feed(_ bytes: [UInt8], _ emit: (Statement) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { try feed($0, emit) }
    }

    /// Ends the input: a last statement without delimiter is still a statement; an open string
    /// or comment means the dump was cut short.
    public mutating func finish(_ emit: (Statement) throws -> Void) throws {
        let rest = carry
        carry = []
        _ = try rest.withUnsafeBufferPointer { try scan($0, final: true, emit) }
        switch state {
        case .quoted:
            throw DumpError.truncated(line: statementLine, detail: "the dump ends inside a quoted string")
        case .blockComment:
            throw DumpError.truncated(line: statementLine, detail: "the dump ends inside a /* comment */")
        default: break
        }
        if current.contains(where: { !Self.isSpace($0) }) { try complete(emit) }
    }

    /// Scans `chunk`; returns how many bytes it used (the rest needs the next chunk to decide).
    /// One loop over the bytes, longer than most functions here on purpose: every byte of a
    /// dump passes through it, and its states share the position, the carry and the line count,
    /// which functions per state would pass back and forth on each byte.
    mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>, final: Bool, _ emit: (Statement) throws -> Void) throws -> Int {
        var index = 0
        let count = chunk.count
        /// True when `length` bytes from `index` are not all here yet and more input may come.
        func short(_ length: Int) -> Bool { !final && index + length > count }

        while index < count {
            let byte = chunk[index]
            switch state {
            case .normal:
                if atStatementStart {
                    if Self.isSpace(byte) {
                        if byte == 0x0A { line += 1; atLineStart = true }
                        index += 1
                        continue
                    }
                    if atLineStart, byte | 0x20 == UInt8(ascii: "d") {
                        // `DELIMITER x` (a client command, never sent) needs its whole line.
                        if short(Self.delimiterKeyword.count + 1) { return index }
                        if Self.startsDelimiterCommand(chunk, at: index) {
                            guard let end = Self.lineEnd(chunk, from: index) ?? (final ? count : nil) else { return index }
                            if let newDelimiter = Self.delimiterCommand(Array(chunk[index..<end])) {
                                delimiter = newDelimiter
                                index = end
                                continue
                            }
                        }
                    }
                    if byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/") {
                        if short(3) { return index }
                    }
                    let next = index + 1 < count ? chunk[index + 1] : 0
                    let third = index + 2 < count ? chunk[index + 2] : 0x0A
                    if byte == UInt8(ascii: "#") || (byte == UInt8(ascii: "-") && next == UInt8(ascii: "-") && Self.isSpace(third)) {
                        state = .lineComment
                        index += 1
                        continue
                    }
                    if byte == UInt8(ascii: "/") && next == UInt8(ascii: "*") && third != UInt8(ascii: "!") {
                        state = .blockComment(executable: false)
                        index += 2
                        continue
                    }
                    atStatementStart = false
                    atLineStart = false
                    statementLine = line
                }
                if byte == delimiter[0] {
                    if short(delimiter.count) { return index }
                    if Self.matches(delimiter, chunk, at: index) {
                        try complete(emit)
                        index += delimiter.count
                        continue
                    }
                }
                switch byte {
                case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                    state = .quoted(byte)
                case UInt8(ascii: "("):
                    depth += 1
                    if depth == 1 { tuples += 1 }
                case UInt8(ascii: ")"):
                    depth = max(0, depth - 1)
                case 0x0A:
                    line += 1
                case UInt8(ascii: "/"):
                    if short(3) { return index }
                    if index + 1 < count && chunk[index + 1] == UInt8(ascii: "*") {
                        let executable = index + 2 < count && chunk[index + 2] == UInt8(ascii: "!")
                        state = .blockComment(executable: executable)
                        if executable { current += [byte, UInt8(ascii: "*")] }
                        index += 2
                        continue
                    }
                default: break
                }
                current.append(byte)
                index += 1
                if current.count > maximumStatementBytes {
                    throw DumpError.statementTooLarge(line: statementLine, limit: maximumStatementBytes)
                }
            case .quoted(let quote):
                // Copy the run of ordinary bytes in one go: strings are most of a dump.
                let allowsEscapes = quote != UInt8(ascii: "`")
                var end = index
                while end < count {
                    let next = chunk[end]
                    if escaped {
                        escaped = false
                    } else if next == UInt8(ascii: "\\") && allowsEscapes {
                        escaped = true
                    } else if next == quote {
                        break
                    } else if next == 0x0A {
                        line += 1
                    }
                    end += 1
                }
                current.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[index..<end]))
                index = end
                if end < count {
                    // The closing quote; a doubled quote simply opens the string again.
                    current.append(quote)
                    index += 1
                    state = .normal
                }
            case .lineComment:
                if let end = Self.lineEnd(chunk, from: index) {
                    index = end + 1
                    line += 1
                    atLineStart = true
                    state = .normal
                } else {
                    index = count
                }
            case .blockComment(let executable):
                if byte == UInt8(ascii: "*") {
                    if short(2) { return index }
                    if index + 1 < count && chunk[index + 1] == UInt8(ascii: "/") {
                        if executable { current += [byte, UInt8(ascii: "/")] }
                        state = .normal
                        index += 2
                        continue
                    }
                }
                if executable { current.append(byte) }
                if byte == 0x0A { line += 1 }
                index += 1
            }
        }
        return count
    }

    mutating func complete(_ emit: (Statement) throws -> Void) throws {
        var end = current.count
        while end > 0, Self.isSpace(current[end - 1]) { end -= 1 }
        if end > 0 {
            if end < current.count { current.removeSubrange(end...) }
            try emit(Statement(bytes: current, tuples: tuples, line: statementLine))
        }
        current.removeAll(keepingCapacity: current.capacity <= 1 << 20)
        depth = 0
        tuples = 0
        atStatementStart = true
        atLineStart = false
    }

    static func matches(_ pattern: [UInt8], _ chunk: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + pattern.count <= chunk.count else { return false }
        for offset in 0..<pattern.count where chunk[index + offset] != pattern[offset] { return false }
        return true
    }

    static func lineEnd(_ chunk: UnsafeBufferPointer<UInt8>, from index: Int) -> Int? {
        var end = index
        while end < chunk.count {
            if chunk[end] == 0x0A { return end }
            end += 1
        }
        return nil
    }

    static let delimiterKeyword = Array("delimiter".utf8)

    static func startsDelimiterCommand(_ chunk: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + delimiterKeyword.count < chunk.count else { return false }
        for (offset, letter) in delimiterKeyword.enumerated() where chunk[index + offset] | 0x20 != letter { return false }
        return isSpace(chunk[index + delimiterKeyword.count])
    }

    /// `DELIMITER ;;` → `;;`; nil when the line is something else.
    static func delimiterCommand(_ line: [UInt8]) -> [UInt8]? {
        let keyword = delimiterKeyword
        guard line.count > keyword.count + 1,
              zip(line.prefix(keyword.count), keyword).allSatisfy({ $0 | 0x20 == $1 }),
              isSpace(line[keyword.count]) else { return nil }
        let value = line.dropFirst(keyword.count).drop(while: isSpace)
        let trimmed = Array(value.reversed().drop(while: isSpace).reversed())
        return trimmed.isEmpty ? nil : trimmed
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
}

/// A dump that cannot be imported as it is: where and why.
public enum DumpError: Error, CustomStringConvertible, Sendable, Equatable {
    case truncated(line: Int, detail: String)
    case statementTooLarge(line: Int, limit: Int)

    public var description: String {
        switch self {
        case .truncated(let line, let detail): "the dump is truncated: \(detail) (statement from line \(line))"
        case .statementTooLarge(let line, let limit): "the statement from line \(line) is larger than \(limit >> 20) MiB; the dump looks corrupt"
        }
    }
}
