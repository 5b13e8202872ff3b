import AWS
import Terminal

/// What a change set will do to the shared stack, resource by resource.
public struct StackPlan: Sendable, Encodable {
    public struct Change: Sendable, Encodable, Equatable {
        /// Add, Modify, Remove.
        public var action: String
        public var logicalId: String
        public var resourceType: String
        /// CloudFormation's Replacement for a Modify: True, Conditional or False.
        public var replacement: String?

        public var replaces: Bool { replacement == "True" }
        public var mayReplace: Bool { replacement == "Conditional" }

        /// Said loudly: a replacement or removal destroys the resource (and a database's data).
        public var isDestructive: Bool { action == "Remove" || replaces || mayReplace }
    }

    public var stack: String
    public var changeSet: String
    /// CREATE for a stack that does not exist yet, UPDATE otherwise.
    public var type: String
    public var changes: [Change]
    /// False when the template and parameters already match the stack.
    public var changed: Bool { !changes.isEmpty }

    init(stack: String, changeSet: String, type: String, changes: [CloudFormation.ChangeSet.Change]) {
        self.stack = stack
        self.changeSet = changeSet
        self.type = type
        self.changes = changes.map {
            Change(action: $0.action, logicalId: $0.logicalID, resourceType: $0.resourceType,
                   replacement: $0.action == "Modify" ? $0.replacement : nil)
        }
    }

    enum CodingKeys: String, CodingKey { case stack, changeSet, type, changes, changed }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stack, forKey: .stack)
        try container.encode(changeSet, forKey: .changeSet)
        try container.encode(type, forKey: .type)
        try container.encode(changes, forKey: .changes)
        try container.encode(changed, forKey: .changed)
    }

    /// "3 to add, 1 to modify (1 replaced), 0 to remove".
    public var summary: String {
        let count = { (action: String) in changes.filter { $0.action == action }.count }
        let replaced = changes.filter(\.replaces).count
        return "\(count("Add")) to add, \(count("Modify")) to modify"
            + (replaced > 0 ? " (\(replaced) replaced)" : "") + ", \(count("Remove")) to remove"
    }

    public func render(_ policy: ColorPolicy) -> String {
        guard changed else {
            return "No change: stack \(stack) already matches adminctl.toml and the template; nothing to do."
        }
        var table = Table(headers: ["", "action", "resource", "type"])
        for change in changes {
            let (mark, label): (String, String) = switch change.action {
            case "Add": ("+", "add")
            case "Remove": ("-", "REMOVE")
            case _ where change.replaces: ("!", "REPLACE")
            case _ where change.mayReplace: ("!", "modify, MAY REPLACE")
            default: ("~", "modify")
            }
            let style: Style = change.isDestructive ? .red : (change.action == "Add" ? .green : .yellow)
            table.append([style.apply(mark, policy), style.apply(label, policy),
                          Printable.escaping(change.logicalId), Printable.escaping(change.resourceType)])
        }
        var lines = ["Stack \(stack) (\(type == "CREATE" ? "new" : "update")): \(summary).", table.render(policy)]
        let destructive = changes.filter(\.isDestructive)
        if !destructive.isEmpty {
            lines.append(Style.red.apply("Warning:", policy) + " \(destructive.count) resource(s) will be replaced or removed "
                + "(\(destructive.map(\.logicalId).joined(separator: ", "))): what they hold is lost unless it is kept elsewhere.")
        }
        return lines.joined(separator: "\n")
    }
}
