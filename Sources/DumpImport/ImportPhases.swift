import Foundation

/// The phases of an import, in order, as the summary reports their durations.
public enum ImportPhase: String, CaseIterable, Sendable, Encodable {
    case download, load, indexes, verify, swap
}

/// Seconds spent per phase, and in all. Encodes as `{"load": 1.2, ..., "total": 3.4}`.
public struct PhaseTimes: Sendable, Encodable {
    public private(set) var seconds: [ImportPhase: Double] = [:]
    public var total: Double = 0

    public init() {}

    public subscript(phase: ImportPhase) -> Double? {
        get { seconds[phase] }
        set { seconds[phase] = newValue }
    }

    /// Runs `body`, adding its duration to `phase`.
    public mutating func measure<T>(_ phase: ImportPhase, _ body: () async throws -> T) async rethrows -> T {
        let started = ProcessInfo.processInfo.systemUptime
        defer { seconds[phase, default: 0] += ProcessInfo.processInfo.systemUptime - started }
        return try await body()
    }

    /// "download 1.2 s, load 3.4 s, ..." for the phases that ran.
    public func line(_ format: (Double) -> String) -> String {
        ImportPhase.allCases.compactMap { phase in seconds[phase].map { "\(phase.rawValue) \(format($0))" } }
            .joined(separator: ", ")
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (phase, value) in seconds { try container.encode(value, forKey: Key(phase.rawValue)) }
        try container.encode(total, forKey: Key("total"))
    }
}
