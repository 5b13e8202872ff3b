import AWS
import Nuvola

/// Which machines a fleet command reaches. Developer machines (tag `Role=devbox`) unless
/// `environment` names app instances (`Role=app`, `Env=<env>`); `--all` never reaches app
/// instances. Tags narrow the set; instance ids name machines exactly, whatever their role.
public struct FleetSelection: Sendable, Equatable, Encodable {
    public var all = false
    public var developers: [String] = []
    public var tags: [String: [String]] = [:]
    public var instanceIDs: [String] = []
    public var environment: AppEnvironment?

    public init(all: Bool = false, developers: [String] = [], tags: [String: [String]] = [:], instanceIDs: [String] = [],
                environment: AppEnvironment? = nil) {
        self.all = all
        self.developers = developers
        self.tags = tags
        self.instanceIDs = instanceIDs
        self.environment = environment
    }

    /// `K=V` pairs (repeated keys give several values) as tags; nil and a reason when malformed.
    public static func parseTags(_ pairs: [String]) -> (tags: [String: [String]], problem: String?) {
        var tags: [String: [String]] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                return ([:], "--tag takes KEY=VALUE (for example --tag Team=web), not \"\(pair)\"")
            }
            tags[String(parts[0]), default: []].append(String(parts[1]))
        }
        return (tags, nil)
    }

    /// Why this selection cannot be used, or nil. Exactly one way of choosing is needed.
    public var problem: String? {
        let chosen = (all ? 1 : 0) + (developers.isEmpty ? 0 : 1) + (instanceIDs.isEmpty ? 0 : 1)
        if chosen == 0 && tags.isEmpty && environment == nil {
            return "say which machines: --all (every developer machine), --dev NAME, --tag KEY=VALUE, --instance ID or --env dev|prod"
        }
        if chosen > 1 { return "choose one of --all, --dev and --instance (--tag and --env narrow any of them)" }
        if all && environment != nil {
            return "--all means every developer machine and never app instances; for app instances use --env \(environment!.rawValue) alone"
        }
        if !developers.isEmpty && environment != nil { return "--dev selects developer machines; --env selects app instances: use one" }
        if let problem = developers.lazy.compactMap(DeveloperName.problem).first { return "--dev takes a developer's name: \(problem)" }
        if tags[NuvolaTag.role] != nil {
            return "--tag \(NuvolaTag.role)=... is not taken: without --env the machines are developer machines (Role=devbox), with --env app instances"
        }
        if !instanceIDs.isEmpty && environment != nil { return "--instance names machines exactly: leave out --env" }
        return nil
    }

    /// Tag conditions every chosen instance carries (all must hold); empty for instance ids alone.
    public var tagConditions: [(key: String, values: [String])] {
        var conditions: [(key: String, values: [String])] = []
        if instanceIDs.isEmpty {
            if let environment {
                conditions.append((NuvolaTag.role, [MachineRole.app.rawValue]))
                conditions.append((NuvolaTag.environment, [environment.rawValue]))
            } else {
                conditions.append((NuvolaTag.role, [MachineRole.devbox.rawValue]))
            }
        }
        if !developers.isEmpty { conditions.append((NuvolaTag.owner, developers)) }
        for key in tags.keys.sorted() where key != NuvolaTag.role { conditions.append((key, tags[key]!)) }
        return conditions
    }

    /// The Run Command targets for one SendCommand by tags, or nil when ids must be sent.
    public var ssmTargets: [SSM.Target]? {
        guard instanceIDs.isEmpty, tagConditions.count <= 5, tagConditions.allSatisfy({ $0.values.count <= 50 }) else { return nil }
        return tagConditions.map { SSM.Target.tag($0.key, $0.values) }
    }

    /// What the selection means, for messages: "Role=devbox, Owner=ana|bob".
    public var summary: String {
        var parts = tagConditions.map { "\($0.key)=\($0.values.joined(separator: "|"))" }
        if !instanceIDs.isEmpty { parts.insert("instance \(instanceIDs.joined(separator: ", "))", at: 0) }
        return parts.joined(separator: ", ")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(all, forKey: .all)
        try container.encode(developers, forKey: .developers)
        try container.encode(tags, forKey: .tags)
        try container.encode(instanceIDs, forKey: .instanceIds)
        try container.encodeIfPresent(environment, forKey: .environment)
        try container.encode(summary, forKey: .filter)
    }

    enum Keys: String, CodingKey { case all, developers, tags, instanceIds, environment, filter }
}

/// One machine a fleet command reaches, as EC2 and Systems Manager see it.
public struct FleetHost: Sendable, Equatable, Encodable {
    public var instanceID: String
    public var owner: String?
    public var environment: String?
    public var role: String?
    /// EC2's state: running, stopped, ...
    public var state: String
    /// Systems Manager's PingStatus (Online, ConnectionLost, Inactive), nil when the agent never registered.
    public var ping: String?
    /// Another machine of the run has the same owner: the label names the instance too.
    public var sharesOwner = false

    public init(instanceID: String, owner: String? = nil, environment: String? = nil, role: String? = nil,
                state: String = "running", ping: String? = nil) {
        self.instanceID = instanceID
        self.owner = owner
        self.environment = environment
        self.role = role
        self.state = state
        self.ping = ping
    }

    init(_ instance: EC2.Instance) {
        self.init(instanceID: instance.id, owner: instance.tags[NuvolaTag.owner].flatMap { $0.isEmpty ? nil : $0 },
                  environment: instance.tags[NuvolaTag.environment], role: instance.tags[NuvolaTag.role], state: instance.state)
    }

    /// The developer's name for their machine, else the instance id with its environment.
    public var label: String {
        if let owner { return sharesOwner ? "\(owner) (\(instanceID))" : owner }
        if let environment, !environment.isEmpty { return "\(instanceID) (\(environment))" }
        return instanceID
    }

    public var isOnline: Bool { state == "running" && ping == "Online" }

    /// Why a command cannot reach it now, or nil.
    public var unreachable: String? {
        if state != "running" { return "instance is \(state)" }
        guard let ping else { return "no Systems Manager agent has registered (unmanaged: no instance profile or agent not installed)" }
        return ping == "Online" ? nil : "agent is \(ping)"
    }

    enum CodingKeys: String, CodingKey { case instanceID = "instanceId", owner, environment, role, state, ping, label }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(instanceID, forKey: .instanceID)
        try container.encodeIfPresent(owner, forKey: .owner)
        try container.encodeIfPresent(environment, forKey: .environment)
        try container.encodeIfPresent(role, forKey: .role)
        try container.encode(state, forKey: .state)
        try container.encodeIfPresent(ping, forKey: .ping)
        try container.encode(label, forKey: .label)
    }
}
