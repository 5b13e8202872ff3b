import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Nuvola
import Terminal


extension Adminctl {
    static func openReleases(_ environment: AppEnvironment) async throws -> EnvironmentReleases {
        try await EnvironmentReleases.open(environment, directory: FileManager.default.currentDirectoryPath,
                                           processEnvironment: ProcessInfo.processInfo.environment,
                                           http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build releases: deterministic tarballs of a commit, published for deploys.",
            subcommands: [Build.self]
        )

        struct Build: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Build a release of dev or prod from a ref and publish it to S3 and Parameter Store.",
                discussion: """
                    Fetches adminctl's own clone of repository.url (a bare clone under \
                    ~/.cache/adminctl/repo, never your working copy), resolves the ref (default: \
                    repository.integration_branch for dev, repository.production_branch for prod; \
                    else a branch, tag or commit id), exports that commit's tree, runs \
                    release.build in it (default `composer install --no-dev \
                    --optimize-autoloader`, only when composer.json exists), and writes a \
                    deterministic tarball: the same tree and build give the same bytes and \
                    checksum. It is uploaded to artifacts/<env>/<release>.tar.gz with its .sha256 \
                    and recorded in /<project>/<env>/releases/<release>; the release id is the \
                    UTC build time and the short commit id. Nothing is deployed: the release \
                    pointer does not move.

                    When a published release of the same commit and build step exists it is \
                    reused and nothing is rebuilt.

                    The build holds the environment's deploy lock (Parameter Store, a lease of \
                    deploy.lock_lease_seconds renewed while it runs, released at the end, on \
                    failure and on Ctrl-C). A lock whose lease ran out (a killed deploy) is taken \
                    over; --force-unlock removes a live one after confirmation.

                    Examples:
                      adminctl release build dev
                      adminctl release build prod --ref v1.4.2 --json

                    Exit status: 0 when the release is published (or already was), 1 when it \
                    failed (unknown ref, build failure with its output's last lines, upload), \
                    2 for a usage error, 3 when another deploy holds the lock, 130 on Ctrl-C.
                    """
            )

            @Argument(help: "dev or prod.")
            var environment: AppEnvironment

            @Option(help: ArgumentHelp("Branch, tag or commit to build (default: the environment's branch).", valueName: "ref"))
            var ref: String?

            @Flag(help: "Remove the environment's deploy lock first, even if its lease is live (asks unless --yes).")
            var forceUnlock = false

            @Flag(help: "Do not ask before --force-unlock (needed without a terminal).")
            var yes = false

            @OptionGroup var output: OutputOptions

            func validate() throws {
                if let ref, ref.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw ValidationError("--ref needs a branch, tag or commit id, such as --ref main.")
                }
            }

            func run() async throws {
                if forceUnlock, !yes, isatty(STDIN_FILENO) != 1 {
                    throw ValidationError("--force-unlock asks before it removes another deploy's lock, and there is no terminal "
                        + "to ask on: add --yes.")
                }
                let console = output.console
                let releases = try await Adminctl.openReleases(environment)
                if forceUnlock, !yes, let lease = try await releases.lock.current(), !lease.isFree(at: Date()) {
                    let question = "Remove the \(environment.rawValue) deploy lock held by \(lease.holder) (\(lease.purpose))? "
                        + "If that deploy still runs, it stops at its next renewal."
                    guard try await Prompt.confirm(question, output: console.err) == true else {
                        console.note("Not confirmed: the lock is left as it is.")
                        throw ExitCode(1)
                    }
                }
                do {
                    let report = try await releases.build(ref: ref, forceUnlock: forceUnlock, console: console)
                    try console.present(report) { _ in report.render() }
                } catch let error as DeployError where error.kind == .locked {
                    ToolMain.report(error, json: output.json)
                    throw ExitCode(3)
                }
            }
        }
    }

    struct Releases: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the releases built for dev or prod, and which one is current.",
            discussion: """
                Each release recorded in Parameter Store (/<project>/<env>/releases/), newest \
                first: id, commit, ref, when it was built, tarball size and SHA-256, whether its \
                artifact is still in the bucket, and * for the one the release pointer \
                (/<project>/<env>/release) names. A deploy lock in force is shown too.

                Examples:
                  adminctl releases prod
                  adminctl releases dev --json | jq -r '.releases[-1].id'

                Exit status: 0 on success, 1 when AWS could not be read.
                """
        )

        @Argument(help: "dev or prod.")
        var environment: AppEnvironment

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let console = output.console
            let report = try await Adminctl.openReleases(environment).list()
            try console.present(report, text: report.render)
        }
    }
}
