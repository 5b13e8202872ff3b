import Foundation
import Nuvola
import Terminal

/// What `adminctl deploy` or `adminctl rollback` did (or, with --dry-run, would do): the old and
/// new release, the waves with their instances and timings, each instance's outcome.
public struct DeployReport: Sendable, Encodable {
    public enum Action: String, Sendable, Encodable { case deploy, rollback }
    public enum Outcome: String, Sendable, Encodable {
        /// Every instance runs the new release and the pointer names it.
        case deployed
        /// --dry-run: nothing was changed.
        case planned
        /// Stopped; every instance switched was put back on the release it served before.
        case rolledBack = "rolled-back"
        /// The pointer moved, but an instance that joined during the deploy could not be brought along.
        case incomplete
        /// Ctrl-C: the wave under way was put back.
        case interrupted
        /// Every instance serves the release, but the release pointer could not be moved: instances
        /// launched from now on install the old one until it is.
        case pointerNotMoved = "pointer-not-moved"
    }

    public struct Wave: Sendable, Encodable {
        public var number: Int
        public var instances: [String]
        public var seconds: Double?
        /// ok, failed, interrupted, or planned.
        public var outcome: String
    }

    public struct Instance: Sendable, Encodable {
        public var id: String
        public var zone: String
        /// 0 for an instance that joined during the deploy and was brought along after the last wave.
        public var wave: Int
        /// The release it served before.
        public var from: String?
        /// The release it serves at the end.
        public var now: String?
        /// downloaded, reused (already on the instance), or nil when not staged.
        public var staged: String?
        /// switched, unchanged (already on it), reverted, failed, not-switched, planned.
        public var outcome: String
        public var reason: String?
    }

    public var action: Action
    public var mode: DeployMode
    public var environment: AppEnvironment
    public var release: String
    /// The release pointer before (and, when outcome is deployed, the release instances ran before).
    public var previous: String?
    /// Whether the release was built by this deploy (false: it was already published).
    public var built: Bool?
    public var commit: String?
    public var dryRun: Bool
    public var batch: String
    public var minHealthyPercent: Int
    /// Migrations: "ran" (on `migrationInstance`), "none" (the release has none), "planned"
    /// (dry run: the release has a console and migrations), nil when not reached.
    public var migrations: String?
    public var migrationInstance: String?
    public var waves: [Wave]
    public var instances: [Instance]
    /// Instances that joined the group during the deploy.
    public var newcomers: [String]
    public var pointerMoved: Bool
    public var outcome: Outcome
    /// Why it stopped, when it did.
    public var failure: String?
    /// Phases (build, stage, migrations, waves, catch-up) and their seconds.
    public var phases: [String: Double]
    public var seconds: Double

    public var succeeded: Bool { outcome == .deployed || outcome == .planned }

    public func render(_ policy: ColorPolicy) -> String {
        let verb = action == .deploy ? "Deploy" : "Rollback"
        var lines: [String] = []
        let from = previous ?? "none"
        switch outcome {
        case .planned:
            lines.append("\(verb) of \(environment.rawValue) planned (dry run, nothing changed): \(from) → \(release).")
        case .deployed:
            lines.append("\(environment.rawValue) runs \(release) on every instance (was \(from)); "
                + "\(instances.count) instance(s) in \(waves.count) wave(s), \(String(format: "%.1f", seconds)) s.")
        case .rolledBack:
            lines.append(Style.red.apply("\(verb) of \(release) stopped: \(failure ?? "a step failed").", policy))
        case .incomplete:
            lines.append(Style.red.apply("\(environment.rawValue) now installs \(release), but \(failure ?? "an instance was not brought along").", policy))
        case .interrupted:
            lines.append(Style.red.apply("\(verb) of \(release) interrupted.", policy))
        case .pointerNotMoved:
            lines.append(Style.red.apply("\(environment.rawValue) serves \(release) on every instance, but \(failure ?? "the release pointer was not moved").", policy))
        }
        let built = self.built == true ? (dryRun ? ", to be built" : ", built now") : ""
        lines.append("  release     \(release)\(commit.map { " (\(String($0.prefix(12))))" } ?? "")\(built)")
        lines.append("  batch       \(batch), min healthy \(minHealthyPercent)%")
        if action == .deploy {
            lines.append("  migrations  \(migrations.map { $0 == "ran" ? "ran on \(migrationInstance ?? "one instance")" : $0 } ?? "not reached")")
        }
        for wave in waves {
            let time = wave.seconds.map { String(format: " %.2f s", $0) } ?? ""
            lines.append("  wave \(wave.number)      \(wave.instances.joined(separator: " ")) — \(wave.outcome)\(time)")
        }
        if !newcomers.isEmpty { lines.append("  joined      \(newcomers.joined(separator: " ")) (brought along after the last wave)") }
        if outcome != .planned {
            let rows = instances.map { item in
                [item.id, item.zone, item.wave == 0 ? "joined" : String(item.wave), item.from ?? "-", item.now ?? "-", item.staged ?? "-",
                 item.outcome + (item.reason.map { ": \(Printable.escaping($0))" } ?? "")]
            }
            lines.append(Table(headers: ["instance", "zone", "wave", "from", "now", "staged", "outcome"], rows: rows)
                .render(policy).trimmingCharacters(in: .newlines))
        }
        if outcome == .rolledBack || outcome == .interrupted {
            let served = Set(instances.compactMap(\.now))
            if served.count == 1, let only = served.first {
                lines.append("\(environment == .prod ? "Production" : "dev") still serves \(only) on every instance; "
                    + "the release pointer was not moved.")
            }
        }
        return lines.joined(separator: "\n")
    }
}
