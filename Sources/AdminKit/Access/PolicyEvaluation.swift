import Foundation

/// IAM's decision for one request over identity-based policies, evaluated here rather than
/// trusted to the cloud (the simulator's evaluator, and moto's before it, is what is under test):
/// an explicit Deny wins, then an Allow, else the implicit deny. Action/NotAction,
/// Resource/NotResource (wildcards), policy variables (`${aws:username}`), and the condition
/// operators policies use (String*, Arn*, Bool, Null, each `...IfExists`). A condition operator
/// this does not know is assumed to match in an Allow and not in a Deny: the audit then reports
/// more access than there may be, never less.
public enum PolicyEvaluation {
    public struct Request: Sendable {
        public var action: String
        public var resource: String
        /// Context keys (any case) and their values: aws:username, ssm:resourceTag/Owner, ...
        public var context: [String: String]

        public init(action: String, resource: String, context: [String: String]) {
            self.action = action
            self.resource = resource
            self.context = Dictionary(context.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        }
    }

    public enum Decision: Sendable, Equatable {
        case allow(policy: String, statement: String)
        case explicitDeny(policy: String, statement: String)
        case implicitDeny

        public var allowed: Bool { if case .allow = self { true } else { false } }
    }

    public struct Condition: Sendable {
        public var op: String
        public var key: String
        public var values: [String]
    }

    public struct Statement: Sendable {
        public var sid: String
        public var allow: Bool
        public var actions: [String]?
        public var notActions: [String]?
        public var resources: [String]?
        public var notResources: [String]?
        public var conditions: [Condition]
    }

    public struct Document: Sendable {
        public var name: String
        public var statements: [Statement]
    }

    /// Reads a policy document (JSON); `name` says where it came from in decisions and findings.
    public static func parse(_ json: String, name: String) throws -> Document {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw AccessError(.notReady, "The policy \(name) is not a JSON object.")
        }
        let raw: [[String: Any]] = (object["Statement"] as? [[String: Any]]) ?? ((object["Statement"] as? [String: Any]).map { [$0] } ?? [])
        let statements = raw.enumerated().map { index, item in
            var conditions: [Condition] = []
            for (op, pairs) in (item["Condition"] as? [String: Any]) ?? [:] {
                for (key, value) in (pairs as? [String: Any]) ?? [:] {
                    conditions.append(Condition(op: op, key: key.lowercased(), values: strings(value) ?? []))
                }
            }
            return Statement(sid: (item["Sid"] as? String) ?? "#\(index + 1)", allow: (item["Effect"] as? String) == "Allow",
                             actions: strings(item["Action"]), notActions: strings(item["NotAction"]),
                             resources: strings(item["Resource"]), notResources: strings(item["NotResource"]), conditions: conditions)
        }
        return Document(name: name, statements: statements)
    }

    static func strings(_ value: Any?) -> [String]? {
        if let one = value as? String { return [one] }
        if let many = value as? [Any] { return many.map { "\($0)" } }
        if let bool = value as? Bool { return [bool ? "true" : "false"] }
        if let number = value as? NSNumber { return [number.stringValue] }
        return nil
    }

    public static func decide(_ request: Request, _ documents: [Document]) -> Decision {
        var allowed: Decision?
        for document in documents {
            for statement in document.statements where applies(statement, to: request) {
                if !statement.allow { return .explicitDeny(policy: document.name, statement: statement.sid) }
                allowed = allowed ?? .allow(policy: document.name, statement: statement.sid)
            }
        }
        return allowed ?? .implicitDeny
    }

    static func applies(_ statement: Statement, to request: Request) -> Bool {
        if let actions = statement.actions, !actions.contains(where: { matches($0, request.action, caseless: true) }) { return false }
        if let actions = statement.notActions, actions.contains(where: { matches($0, request.action, caseless: true) }) { return false }
        if let resources = statement.resources,
           !resources.contains(where: { matches(substitute($0, request), request.resource, caseless: false) }) { return false }
        if let resources = statement.notResources,
           resources.contains(where: { matches(substitute($0, request), request.resource, caseless: false) }) { return false }
        return statement.conditions.allSatisfy { holds($0, request, unknownHolds: statement.allow) }
    }

    static func holds(_ condition: Condition, _ request: Request, unknownHolds: Bool) -> Bool {
        var op = condition.op
        for qualifier in ["ForAnyValue:", "ForAllValues:"] where op.hasPrefix(qualifier) { op = String(op.dropFirst(qualifier.count)) }
        let ifExists = op.hasSuffix("IfExists")
        if ifExists { op = String(op.dropLast("IfExists".count)) }
        let values = condition.values.map { substitute($0, request) }
        guard op != "Null" else {
            return (request.context[condition.key] == nil) == (values.first?.lowercased() == "true")
        }
        let known = ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
                     "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool"]
        guard known.contains(op) else { return unknownHolds }
        let negated = ["StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"].contains(op)
        guard let actual = request.context[condition.key] else { return ifExists || negated }
        switch op {
        case "StringEquals", "ArnEquals": return values.contains(actual)
        case "StringNotEquals", "ArnNotEquals": return !values.contains(actual)
        case "StringEqualsIgnoreCase": return values.contains { $0.lowercased() == actual.lowercased() }
        case "StringNotEqualsIgnoreCase": return !values.contains { $0.lowercased() == actual.lowercased() }
        case "StringLike", "ArnLike": return values.contains { matches($0, actual, caseless: false) }
        case "StringNotLike", "ArnNotLike": return !values.contains { matches($0, actual, caseless: false) }
        case "Bool": return values.contains { $0.lowercased() == actual.lowercased() }
        default: return unknownHolds
        }
    }

    /// `${aws:username}` and any context key; `${*}`, `${?}`, `${$}` are the literal characters.
    static func substitute(_ text: String, _ request: Request) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { result += rest[start.lowerBound...]; return result }
            let name = String(rest[start.upperBound..<end])
            switch name {
            case "*": result += "\u{1}"  // a literal star, matched as itself
            case "?": result += "\u{2}"
            case "$": result += "$"
            default: result += request.context[name.lowercased()] ?? "\u{0}unresolved"
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// IAM's wildcards: `*` any run of characters, `?` any one.
    static func matches(_ pattern: String, _ value: String, caseless: Bool) -> Bool {
        let p = Array((caseless ? pattern.lowercased() : pattern).unicodeScalars)
        let v = Array((caseless ? value.lowercased() : value).unicodeScalars)
        var (pi, vi, star, mark) = (0, 0, -1, 0)
        while vi < v.count {
            if pi < p.count, p[pi] == "?" || p[pi] == v[vi] || (p[pi] == "\u{1}" && v[vi] == "*") || (p[pi] == "\u{2}" && v[vi] == "?") {
                pi += 1; vi += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = vi; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; vi = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
