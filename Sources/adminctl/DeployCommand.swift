import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Nuvola
import Terminal

extension Adminctl {
    static func openDeploy(_ environment: AppEnvironment) async throws -> RollingDeploy {
        try await RollingDeploy.open(environment, directory: FileManager.default.currentDirectoryPath,
                                     processEnvironment: ProcessInfo.processInfo.environment,
                                     http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
    }

    /// Shown, then the exit status: 0 done (or planned), 1 stopped (the text says what still
    /// serves), 3 when the lock is held; 130 on Ctrl-C comes from ToolMain.
    static func finish(_ report: DeployReport, output: OutputOptions) throws {
        let console = output.console
        try console.present(report, text: report.render)
        guard report.succeeded else {
            if !output.json {
                let served = Set(report.instances.compactMap(\.now))
                let still = served.count == 1 && !report.pointerMoved && report.outcome != .pointerNotMoved
                    ? " \(report.environment == .prod ? "production" : "dev") still serves \(served.first!) on every instance." : ""
                console.error("\(report.failure ?? "the \(report.action.rawValue) stopped").\(still)")
            }
            throw ExitCode(1)
        }
    }

    static func asking(_ question: String, command: String, yes: Bool, dryRun: Bool, output: OutputOptions) async throws {
        guard !yes, !dryRun else { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("adminctl \(command) asks before it switches instances, and there is no terminal to ask on: "
                + "add --yes (--dry-run shows the plan).")
        }
        guard try await Prompt.confirm(question, output: output.console.err) == true else {
            output.console.note("Not confirmed: nothing was changed.")
            throw ExitCode(1)
        }
    }

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deploy a release to dev or prod: switched in place on every instance, in waves (or --refresh).",
            discussion: """
                Under the environment's deploy lock: builds the ref's release (or reuses the one \
                already built from that commit; --release ID names a built one), stages it on \
                every instance in service in the Auto Scaling group at once (download from S3, \
                SHA-256 check, unpack to /srv/app/releases/<id>, links to /srv/app/shared \
                (deploy.shared_paths), cache warm-up when bin/console has cache:warmup: nothing \
                served changes), runs `bin/console doctrine:migrations:migrate --no-interaction` \
                once on one instance when the release has migrations, then in waves (--batch, \
                deploy.batch; never more than deploy.min_healthy_percent allows) checks the new \
                release on each instance (PHP's server on a loopback port must answer 200 on \
                deploy.health_path), switches `current` atomically (a new link renamed over the \
                old) and reloads PHP-FPM gracefully. Each instance keeps deploy.keep_releases \
                releases (S3 and Parameter Store too).

                A wave that fails stops the deploy and every instance switched goes back to the \
                release it served; Ctrl-C does the same for the wave under way. The release \
                pointer (/<project>/<env>/release) moves only after the last wave, so instances \
                launched meanwhile install the old release and those launched later the new one; \
                instances that joined during the deploy are brought along after it.

                --refresh replaces the instances instead (for a new AMI with --image-id, or a \
                launch-template change): a new numbered launch template version made from the \
                group's own with the release pinned in its user data (never $Latest or \
                $Default, which turn auto-rollback off), then an Auto Scaling instance refresh \
                with deploy.refresh_min_healthy_percent (default 90), \
                deploy.refresh_warmup_seconds, SkipMatching and AutoRollback, followed until it \
                ends. The pointer moves only once the refresh succeeded (instances a rollback \
                launches install the release served before); a refresh already under way is \
                refused with the commands that show or cancel it; Ctrl-C cancels the refresh. \
                Slower than switching in place (every instance boots), so use it for images, \
                not for code.

                Examples:
                  adminctl deploy prod --dry-run
                  adminctl deploy prod --yes
                  adminctl deploy dev --ref feature-x --batch 1 --yes --json
                  adminctl deploy prod --refresh --image-id ami-0123456789abcdef0 --yes

                Exit status: 0 when every instance runs the release, 1 when the deploy stopped \
                (the report says what every instance serves) or failed before any switch, 2 for \
                a usage error, 3 when another deploy holds the lock, 130 on Ctrl-C (the wave \
                under way put back, the lock released).
                """
        )

        @Argument(help: "dev or prod.")
        var environment: AppEnvironment

        @Option(help: ArgumentHelp("Branch, tag or commit to deploy (default: the environment's branch).", valueName: "ref"))
        var ref: String?

        @Option(name: .customLong("release"), help: ArgumentHelp("A release already built (`adminctl releases`) instead of a ref.", valueName: "id"))
        var releaseID: String?

        @Option(help: ArgumentHelp("Instances per wave: a count or a percentage (default deploy.batch).", valueName: "N|P%"))
        var batch: String?

        @Flag(help: "Print the plan (release, waves, migrations) and change nothing.")
        var dryRun = false

        @Flag(help: "Do not ask before deploying (needed without a terminal).")
        var yes = false

        @Flag(help: "Remove the environment's deploy lock first, even if its lease is live.")
        var forceUnlock = false

        @Flag(help: "Replace the instances by an Auto Scaling instance refresh instead of switching them in place (a new AMI or launch template).")
        var refresh = false

        @Option(name: .customLong("image-id"), help: ArgumentHelp("With --refresh: the AMI new instances boot (default: the launch template's).", valueName: "ami-id"))
        var imageID: String?

        @OptionGroup var output: OutputOptions

        /// How the release reaches the instances.
        var mode: DeployMode { refresh ? .refresh : .rolling }

        func validate() throws {
            if ref != nil && releaseID != nil { throw ValidationError("Give --ref or --release, not both.") }
            if let ref, ref.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--ref needs a branch, tag or commit id, such as --ref main.")
            }
            if let releaseID, !AdminKit.Release.isValidID(releaseID) {
                throw ValidationError("--release takes a release id such as 20261201T093512Z-1a2b3c4 (`adminctl releases \(environment.rawValue)`).")
            }
            if let batch, DeployBatch(batch) == nil {
                throw ValidationError("--batch takes a count (1 or more) or a percentage such as 34%, not \"\(batch)\".")
            }
            if imageID != nil && !refresh {
                throw ValidationError("--image-id goes with --refresh: only new instances boot another image.")
            }
            if let imageID, imageID.range(of: "^ami-[0-9a-f]{8,17}$", options: .regularExpression) == nil {
                throw ValidationError("--image-id takes an AMI id such as ami-0123456789abcdef0, not \"\(imageID)\".")
            }
            if refresh, batch != nil {
                throw ValidationError("--batch sizes in-place waves; an instance refresh replaces as many at a time as "
                    + "deploy.refresh_min_healthy_percent leaves.")
            }
            if refresh, dryRun, releaseID == nil {
                throw ValidationError("--refresh --dry-run takes --release ID (`adminctl releases \(environment.rawValue)`).")
            }
        }

        func run() async throws {
            try await Adminctl.asking("Deploy to \(environment.rawValue)?", command: "deploy", yes: yes, dryRun: dryRun, output: output)
            do {
                switch mode {
                case .rolling:
                    let deploy = try await Adminctl.openDeploy(environment)
                    let request = RollingDeploy.Request(ref: ref, releaseID: releaseID, batch: batch.flatMap(DeployBatch.init),
                                                        dryRun: dryRun, forceUnlock: forceUnlock)
                    try Adminctl.finish(try await deploy.deploy(request, console: output.console), output: output)
                case .refresh:
                    try await runRefresh()
                }
            } catch let error as DeployError where error.kind == .locked {
                ToolMain.report(error, json: output.json)
                throw ExitCode(3)
            }
        }

        /// `--refresh`: the plan, or the refresh followed to its end; a refresh that failed, rolled
        /// back or was refused because another is under way exits 1.
        func runRefresh() async throws {
            let refreshing = try await InstanceRefreshDeploy.open(environment, directory: FileManager.default.currentDirectoryPath,
                                                                  processEnvironment: ProcessInfo.processInfo.environment,
                                                                  http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
            if dryRun, let releaseID {
                let plan = try await refreshing.plan(release: releaseID, imageID: imageID)
                try output.console.present(plan, text: plan.render)
                return
            }
            let console = output.console
            do {
                let report = try await refreshing.run(ref: ref, releaseID: releaseID, imageID: imageID, forceUnlock: forceUnlock) {
                    console.note($0)
                }
                try output.console.present(report, text: report.render)
            } catch let error as DeployError where error.kind == .refreshInProgress || error.kind == .refreshFailed {
                ToolMain.report(error, json: output.json)
                throw ExitCode(1)
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Switch dev or prod back to an earlier release, in waves, without rebuilding.",
            discussion: """
                Switches every instance in service back to the last release built before the one \
                the release pointer names that served (or --to ID), in waves as a deploy does, \
                then moves the pointer. Nothing is built; nothing is downloaded on an instance \
                that still has the release in /srv/app/releases (deploy.keep_releases are kept), \
                and an instance that does not gets it from S3. No health check and no \
                migrations: the release served before. A release that never served (only built, \
                or its deploy failed), no longer recorded or whose artifact is gone from S3 is \
                refused.

                Examples:
                  adminctl rollback prod --yes
                  adminctl rollback prod --to 20261201T093512Z-1a2b3c4 --yes --json

                Exit status: 0 when every instance runs the release, 1 when it stopped (the \
                report says what every instance serves), 2 for a usage error, 3 when another \
                deploy holds the lock, 130 on Ctrl-C.
                """
        )

        @Argument(help: "dev or prod.")
        var environment: AppEnvironment

        @Option(help: ArgumentHelp("The release to switch to (default: the one before the current).", valueName: "id"))
        var to: String?

        @Option(help: ArgumentHelp("Instances per wave: a count or a percentage (default deploy.batch).", valueName: "N|P%"))
        var batch: String?

        @Flag(help: "Print the plan and change nothing.")
        var dryRun = false

        @Flag(help: "Do not ask before switching (needed without a terminal).")
        var yes = false

        @Flag(help: "Remove the environment's deploy lock first, even if its lease is live.")
        var forceUnlock = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let to, !AdminKit.Release.isValidID(to) {
                throw ValidationError("--to takes a release id such as 20261201T093512Z-1a2b3c4 (`adminctl releases \(environment.rawValue)`).")
            }
            if let batch, DeployBatch(batch) == nil {
                throw ValidationError("--batch takes a count (1 or more) or a percentage such as 34%, not \"\(batch)\".")
            }
        }

        func run() async throws {
            try await Adminctl.asking("Roll \(environment.rawValue) back?", command: "rollback", yes: yes, dryRun: dryRun, output: output)
            let deploy = try await Adminctl.openDeploy(environment)
            do {
                let report = try await deploy.rollback(to: to, batch: batch.flatMap(DeployBatch.init), dryRun: dryRun,
                                                       forceUnlock: forceUnlock, console: output.console)
                try Adminctl.finish(report, output: output)
            } catch let error as DeployError where error.kind == .locked {
                ToolMain.report(error, json: output.json)
                throw ExitCode(3)
            }
        }
    }
}
