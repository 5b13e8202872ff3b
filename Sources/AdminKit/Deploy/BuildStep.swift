import Foundation
import Host

/// The command that turns an exported tree into what instances run (`release.build`): by
/// default `composer install --no-dev --optimize-autoloader`, which runs only when the tree has a
/// composer.json; another command always runs; an empty one means no build step.
public struct BuildStep: Sendable, Equatable {
    public static let defaultCommand = "composer install --no-dev --optimize-autoloader"

    public var command: String

    public init(command: String?) { self.command = command ?? Self.defaultCommand }

    /// The command that runs for a tree, or nil when none does.
    public func effective(hasComposerJSON: Bool) -> String? {
        let trimmed = command.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        if trimmed == Self.defaultCommand && !hasComposerJSON { return nil }
        return trimmed
    }

    /// How many lines of output a failure shows.
    static let tailLines = 30

    /// Variables the build must not see: cloud credentials and git tokens are adminctl's, not the app's.
    static func buildEnvironment(_ environment: [String: String]) -> [String: String] {
        environment.filter { key, _ in
            !(key.hasPrefix("AWS_") || key == "ADMINCTL_GIT_TOKEN" || key == "GH_TOKEN" || key == "GITHUB_TOKEN")
        }
    }

    /// Runs `command` with `sh -c` in `directory`; a non-zero exit throws `.buildFailed` with the
    /// last lines of what it printed (stdout and stderr, in that order).
    public static func run(_ command: String, in directory: String, environment: [String: String]) async throws {
        let result = try await ChildProcess.run("/bin/sh", ["-c", command], environment: buildEnvironment(environment),
                                                directory: directory, processGroup: true)
        guard result.succeeded else {
            let text = (result.output + result.errorOutput).trimmingCharacters(in: .whitespacesAndNewlines)
            let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(tailLines).joined(separator: "\n")
            var hint = ""
            if result.status == 127 {
                hint = " The command was not found: install it on this machine (composer: `apt-get install composer`) or set "
                    + "release.build in adminctl.toml (empty for no build step)."
            }
            throw DeployError(.buildFailed, "The build step `\(command)` failed (exit \(result.status)) in the exported tree; "
                + "nothing was uploaded.\(hint)\n--- last lines of its output ---\n\(tail)")
        }
    }
}
