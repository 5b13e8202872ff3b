import Foundation

/// The INI dialect of `~/.aws/config` and `~/.aws/credentials`: `[section]` headers, `key = value`
/// lines, `#`/`;` comments, and indented lines nesting under the key above them
/// (`s3 =` followed by `  addressing_style = path` becomes `s3.addressing_style`).
public struct ConfigFile: Sendable, Equatable {
    /// Section name (as written between the brackets, trimmed) to its keys.
    public private(set) var sections: [String: [String: String]] = [:]

    public init(parsing text: String) {
        var current: String?
        var parent: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let indented = rawLine.first == " " || rawLine.first == "\t"
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                current = name
                parent = nil
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            // Inline comments need whitespace before the marker, as in botocore.
            for marker in [" #", " ;", "\t#", "\t;"] {
                if let range = value.range(of: marker) { value = value[..<range.lowerBound].trimmingCharacters(in: .whitespaces) }
            }
            if indented, let parent {
                sections[section]?["\(parent).\(key)"] = value
            } else {
                sections[section]?[key] = value
                parent = value.isEmpty ? key : nil
            }
        }
    }

    public subscript(section: String) -> [String: String]? { sections[section] }
}
