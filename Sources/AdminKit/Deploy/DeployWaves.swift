import Foundation

/// How many instances one wave of a rolling deploy switches: a count (`3`) or a share of the
/// instances (`34%`, rounded up), as `--batch` and `deploy.batch` say it.
public enum DeployBatch: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    /// Parses `N` (1 or more) or `P%` (1-100); nil when it is neither.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            guard let value = Int(trimmed.dropLast()), (1...100).contains(value) else { return nil }
            self = .percent(value)
        } else {
            guard let value = Int(trimmed), value >= 1 else { return nil }
            self = .count(value)
        }
    }

    public var description: String {
        switch self {
        case .count(let count): String(count)
        case .percent(let percent): "\(percent)%"
        }
    }

    /// The wave size for `instances` instances, before the minimum-healthy cap.
    public func size(of instances: Int) -> Int {
        switch self {
        case .count(let count): count
        case .percent(let percent): (instances * percent + 99) / 100
        }
    }
}

/// The waves of a rolling deploy: the instances in an order that alternates zones, cut into
/// waves of the batch size, capped so that at least `minHealthyPercent` of the instances
/// (rounded up) are never in the wave being switched. A switch is atomic and the instance keeps
/// serving throughout, so the cap bounds how many instances a bad release can reach before its
/// health check stops the deploy; one instance is always allowed, or a single-instance
/// environment could never be deployed.
public struct DeployWaves: Sendable, Equatable {
    public struct Instance: Sendable, Equatable {
        public var id: String
        public var zone: String
        public init(id: String, zone: String) {
            self.id = id
            self.zone = zone
        }
    }

    public var waves: [[String]]
    /// The largest wave the minimum healthy capacity allows.
    public var cap: Int

    public static func plan(_ instances: [Instance], batch: DeployBatch, minHealthyPercent: Int) -> DeployWaves {
        let count = instances.count
        guard count > 0 else { return DeployWaves(waves: [], cap: 0) }
        let keep = (count * max(0, min(100, minHealthyPercent)) + 99) / 100
        let cap = max(1, count - keep)
        let size = max(1, min(batch.size(of: count), cap))
        let ordered = interleaved(instances)
        let waves = stride(from: 0, to: ordered.count, by: size).map { Array(ordered[$0..<min($0 + size, ordered.count)]) }
        return DeployWaves(waves: waves, cap: cap)
    }

    /// a1 b1 a2 b2 a3 ...: each wave takes from every zone in turn, so no zone is switched whole
    /// while another is untouched.
    static func interleaved(_ instances: [Instance]) -> [String] {
        let zones = Dictionary(grouping: instances, by: \.zone).mapValues { $0.map(\.id).sorted() }
        let names = zones.keys.sorted()
        var result: [String] = []
        var index = 0
        while result.count < instances.count {
            for zone in names where index < zones[zone]!.count { result.append(zones[zone]![index]) }
            index += 1
        }
        return result
    }
}
