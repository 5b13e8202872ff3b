/// One result of a `doctor` check: what was checked, what was found, and how to fix it.
public struct Check: Sendable, Encodable, Equatable {
    public enum Status: String, Sendable, Encodable {
        case ok
        /// Works, but something will bite later (low disk, missing optional piece).
        case warning
        /// Cannot work until fixed.
        case failed
    }

    public var name: String
    public var status: Status
    public var detail: String
    /// The command or step that fixes it; nil when `status` is ok.
    public var fix: String?

    public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

/// The outcome of a `doctor` run, rendered as a list for people or as JSON.
public struct Checklist: Sendable, Encodable {
    public var checks: [Check]
    public var ok: Bool { !checks.contains { $0.status == .failed } }

    public init(_ checks: [Check]) { self.checks = checks }

    enum CodingKeys: String, CodingKey { case checks, ok }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checks, forKey: .checks)
        try container.encode(ok, forKey: .ok)
    }

    /// "✔ name   detail" lines, each failure or warning followed by its indented fix.
    public func render(_ policy: ColorPolicy) -> String {
        let width = checks.map(\.name.count).max() ?? 0
        var lines: [String] = []
        for check in checks {
            let mark = switch check.status {
            case .ok: Style.green.apply("✔", policy)
            case .warning: Style.yellow.apply("!", policy)
            case .failed: Style.red.apply("✘", policy)
            }
            let padded = check.name + String(repeating: " ", count: width - check.name.count)
            lines.append("\(mark) \(padded)  \(check.detail)")
            if let fix = check.fix, check.status != .ok {
                lines.append(String(repeating: " ", count: width + 4) + Style.dim.apply("fix: \(fix)", policy))
            }
        }
        let failures = checks.filter { $0.status == .failed }.count
        let warnings = checks.filter { $0.status == .warning }.count
        lines.append("")
        lines.append(failures == 0
            ? "All \(checks.count) checks passed" + (warnings > 0 ? " (\(warnings) with warnings)." : ".")
            : "\(failures) of \(checks.count) checks failed.")
        return lines.joined(separator: "\n")
    }
}

extension Check {
    /// Compares this machine's clock with a server's (`skew` = server minus local, in seconds).
    /// AWS refuses signatures more than 15 minutes off; 5 minutes already warns.
    public static func clock(skew: Double, against reference: String) -> Check {
        // A Date header has whole seconds: below 2 s a skew cannot be told from its rounding plus the
        // round trip (a loaded machine measured 1.0 s against a server on loopback).
        let text = abs(skew) < 2 ? "in step with \(reference)"
            : "\(Format.duration(abs(skew))) \(skew > 0 ? "behind" : "ahead of") \(reference)"
        if abs(skew) > 300 {
            return Check("clock", abs(skew) > 900 ? .failed : .warning, "this machine's clock is \(text)",
                         fix: "sync it: timedatectl set-ntp true (or chronyc makestep); AWS refuses signatures more than 15 min off")
        }
        return Check("clock", .ok, "this machine's clock is \(text)")
    }
}
