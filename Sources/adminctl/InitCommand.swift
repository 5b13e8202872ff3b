import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import Nuvola

extension Adminctl {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write adminctl.toml: project name, region, repository, buckets, sizes and limits.",
            discussion: """
                The region comes from --region, ADMINCTL_AWS_REGION, AWS_REGION or the AWS \
                profile; the project name from --name or the repository URL's last path \
                component; bucket names from the project name and a random suffix. What cannot \
                be guessed is asked on the terminal; --yes takes the suggestions instead, and is \
                needed when there is no terminal to ask on. Every setting is written with a comment saying \
                what it is for.

                An existing adminctl.toml is never overwritten: `adminctl config show` prints \
                what it holds.

                Examples:
                  adminctl init
                  adminctl init --yes --repo https://github.com/acme/nuvola.git

                Exit status: 0 when the file was written, 1 when it exists or cannot be \
                written, 2 for a usage error (a bad --name or --region, or --yes missing).
                """
        )

        @Flag(help: "Take the suggested answers instead of asking.")
        var yes = false

        @Option(help: ArgumentHelp("The app's git repository URL.", valueName: "url"))
        var repo: String?

        @Option(help: "AWS region of the shared infrastructure.")
        var region: String?

        @Option(help: "Project name: 3-20 lowercase letters, digits and '-'.")
        var name: String?

        @Option(help: ArgumentHelp("Where to write adminctl.toml (default: the current directory).", valueName: "path"),
                completion: .directory)
        var dir: String?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let name, let problem = ResourceNames.projectNameProblem(name) { throw ValidationError("--name \(problem).") }
            if let region, let problem = AdminConfig.schema.setting("aws.region")?.problem(with: region) {
                throw ValidationError("--region \(problem).")
            }
            // adminctl.toml is 0644 and the URL goes into stack parameters: a token must not reach either.
            if let repo, let problem = AdminConfig.schema.setting("repository.url")?.problem(with: repo) {
                throw ValidationError("--repo \(problem).")
            }
        }

        func run() async throws {
            let initializer = AdminInit(directory: dir ?? FileManager.default.currentDirectoryPath,
                                        environment: ProcessInfo.processInfo.environment, name: name, region: region, repositoryURL: repo)
            let console = output.console
            do {
                let report = try await initializer.run(yes: yes, console: console)
                try console.present(report) { _ in report.render() }
            } catch let refusal as AdminInit.Refusal where refusal.kind == .needsYes {
                throw ValidationError(refusal.message)
            }
        }
    }
}
