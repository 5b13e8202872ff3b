import Git
import HTTP
import Synchronization
import Terminal

/// The progress bar `devbox init` shows on stderr while cloning: it appears once libgit2 knows how
/// many objects there are, and ends with the count, the size and the rate.
final class CloneProgress: Sendable {
    private let console: Console
    private let started = ContinuousClock.now
    private let state = Mutex<(bar: ProgressBar?, last: GitProgress?)>((nil, nil))

    init(console: Console) { self.console = console }

    func update(_ progress: GitProgress) {
        state.withLock { state in
            if state.bar == nil, progress.totalObjects > 0 {
                state.bar = console.progress("cloning", total: Int64(progress.totalObjects), unit: .items("objects"))
            }
            state.bar?.update(completed: Int64(progress.receivedObjects))
            state.last = progress
        }
    }

    /// Ends the bar (when one was shown) with what arrived, or with "stopped" after a failure.
    func finish(failed: Bool = false) {
        state.withLock { state in
            guard let last = state.last else { return }
            if failed { return state.bar?.finish("stopped") ?? () }
            let seconds = (ContinuousClock.now - started).seconds
            state.bar?.finish("\(last.totalObjects) objects, \(Format.bytes(last.receivedBytes)) in \(Format.duration(seconds))"
                + " (\(Format.bytes(Int64(Double(last.receivedBytes) / max(seconds, 0.001))))/s)")
        }
    }
}

/// What `devbox init` reports: what it did and where the branch stands.
public struct InitReport: Sendable, Encodable {
    public var outcome: InitOutcome
    public var check: BranchCheck

    /// Clones (with a progress bar on `console`) or verifies the workspace, then records `flags`
    /// (the settings given on the command line) in `userConfig` so later commands find it.
    public static func run(_ workspace: Workspace, branch: String?, console: Console,
                           recording flags: [String: (flag: String, value: String)], in userConfig: String) async throws -> InitReport {
        let progress = CloneProgress(console: console)
        let outcome: InitOutcome
        do {
            outcome = try await workspace.initialise(branch: branch) { progress.update($0) }
        } catch {
            progress.finish(failed: true)
            throw error
        }
        progress.finish()
        if !flags.isEmpty {
            try DevboxConfig.record(flags.map { (key: $0.key, value: $0.value.value) }.sorted { $0.key < $1.key }, in: userConfig)
        }
        return InitReport(outcome: outcome, check: try workspace.branchCheck())
    }

    public func render() -> String {
        let verb = outcome.action == .cloned
            ? "Cloned \(outcome.repository) into \(outcome.path) in \(Format.duration(outcome.seconds))."
            : "\(outcome.path) is already a clone of \(outcome.repository); nothing changed."
        return verb + "\n" + check.summary.prefix(1).uppercased() + check.summary.dropFirst() + "\nNext: devbox up"
    }
}
