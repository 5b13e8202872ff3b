/// A parsed XML element: what AWS's query, EC2 and REST-XML protocols answer with.
///
/// AWS responses are small documents without DTDs, so a plain recursive parser over the UTF-8
/// bytes is enough (and keeps libxml2, which Foundation's XMLParser needs, out of the picture).
/// It understands the XML declaration, comments, CDATA, attributes, the five named entities and
/// numeric character references; namespace prefixes are dropped from names.
public struct XMLNode: Sendable, Equatable {
    public var name: String
    public var attributes: [String: String]
    public var children: [XMLNode]
    /// The element's own character data (text directly inside it), entities decoded.
    public var text: String

    public init(name: String, attributes: [String: String] = [:], children: [XMLNode] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child element called `name`.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// Every child element called `name`.
    public func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Follows a path of child names: `node["reservationSet", "item"]`.
    public subscript(_ path: String...) -> XMLNode? {
        var node: XMLNode? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// The text of the child called `name`, or nil when there is no such child.
    public func string(_ name: String) -> String? { child(name)?.text }

    /// The first descendant (depth first) called `name`, self included.
    public func first(_ name: String) -> XMLNode? {
        if self.name == name { return self }
        for child in children {
            if let found = child.first(name) { return found }
        }
        return nil
    }

    /// Parses a document and returns its root element.
    public static func parse(_ bytes: [UInt8]) throws(XMLParseError) -> XMLNode {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    public static func parse(_ text: String) throws(XMLParseError) -> XMLNode { try parse(Array(text.utf8)) }
}

/// The document is not well-formed XML; `offset` is the byte where parsing stopped.
public struct XMLParseError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var offset: Int
    public var description: String { "malformed XML at byte \(offset): \(reason)" }
}

private struct Parser {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(XMLParseError) -> XMLNode {
        try skipMisc()
        guard peek(UInt8(ascii: "<")) else { throw error("expected the root element") }
        let root = try element()
        try skipMisc()
        guard position == bytes.count else { throw error("content after the root element") }
        return root
    }

    /// Whitespace, the XML declaration, processing instructions, comments and a DOCTYPE.
    mutating func skipMisc() throws(XMLParseError) {
        while true {
            skipWhitespace()
            if starts(with: "<?") {
                try skip(past: "?>")
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<!DOCTYPE") {
                try skip(past: ">")
            } else {
                return
            }
        }
    }

    mutating func element() throws(XMLParseError) -> XMLNode {
        position += 1  // "<"
        let name = try readName()
        var node = XMLNode(name: localName(name))
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated start tag <\(name)>") }
            if starts(with: "/>") {
                position += 2
                return node
            }
            if bytes[position] == UInt8(ascii: ">") {
                position += 1
                break
            }
            let attribute = try readName()
            skipWhitespace()
            guard peek(UInt8(ascii: "=")) else { throw error("expected = after attribute \(attribute)") }
            position += 1
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") else {
                throw error("expected a quoted value for attribute \(attribute)")
            }
            let quote = bytes[position]
            position += 1
            let start = position
            while position < bytes.count, bytes[position] != quote { position += 1 }
            guard position < bytes.count else { throw error("unterminated attribute value") }
            node.attributes[attribute] = try decodeEntities(bytes[start..<position])
            position += 1
        }
        var text: [UInt8] = []
        while true {
            guard position < bytes.count else { throw error("unterminated element <\(name)>") }
            if bytes[position] != UInt8(ascii: "<") {
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: "<") { position += 1 }
                text += Array(try decodeEntities(bytes[start..<position]).utf8)
            } else if starts(with: "</") {
                position += 2
                let closing = try readName()
                guard closing == name else { throw error("</\(closing)> closes <\(name)>") }
                skipWhitespace()
                guard peek(UInt8(ascii: ">")) else { throw error("expected > after </\(closing)") }
                position += 1
                node.text = String(decoding: text, as: UTF8.self)
                return node
            } else if starts(with: "<![CDATA[") {
                position += 9
                let start = position
                try skip(past: "]]>")
                text += bytes[start..<(position - 3)]
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<?") {
                try skip(past: "?>")
            } else {
                node.children.append(try element())
            }
        }
    }

    mutating func readName() throws(XMLParseError) -> String {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: "=") {
                break
            }
            position += 1
        }
        guard position > start else { throw error("expected a name") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    func localName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    func decodeEntities(_ slice: ArraySlice<UInt8>) throws(XMLParseError) -> String {
        guard slice.contains(UInt8(ascii: "&")) else { return String(decoding: slice, as: UTF8.self) }
        var output: [UInt8] = []
        var index = slice.startIndex
        while index < slice.endIndex {
            let byte = slice[index]
            guard byte == UInt8(ascii: "&") else {
                output.append(byte)
                index += 1
                continue
            }
            guard let end = slice[index...].firstIndex(of: UInt8(ascii: ";")) else {
                throw XMLParseError(reason: "unterminated entity", offset: index)
            }
            let entity = String(decoding: slice[(index + 1)..<end], as: UTF8.self)
            switch entity {
            case "lt": output.append(UInt8(ascii: "<"))
            case "gt": output.append(UInt8(ascii: ">"))
            case "amp": output.append(UInt8(ascii: "&"))
            case "quot": output.append(UInt8(ascii: "\""))
            case "apos": output.append(UInt8(ascii: "'"))
            default:
                let value: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    value = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    value = UInt32(entity.dropFirst())
                } else {
                    value = nil
                }
                guard let value, let scalar = Unicode.Scalar(value) else {
                    throw XMLParseError(reason: "unknown entity &\(entity);", offset: index)
                }
                output += Array(String(Character(scalar)).utf8)
            }
            index = end + 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    mutating func skipWhitespace() {
        while position < bytes.count,
              [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[position]) {
            position += 1
        }
    }

    func peek(_ byte: UInt8) -> Bool { position < bytes.count && bytes[position] == byte }

    func starts(with text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return text.withUTF8Buffer { buffer in
            for offset in 0..<count where bytes[position + offset] != buffer[offset] { return false }
            return true
        }
    }

    mutating func skip(past terminator: StaticString) throws(XMLParseError) {
        while position < bytes.count {
            if starts(with: terminator) {
                position += terminator.utf8CodeUnitCount
                return
            }
            position += 1
        }
        throw error("expected \(terminator)")
    }

    func error(_ reason: String) -> XMLParseError { XMLParseError(reason: reason, offset: position) }
}
