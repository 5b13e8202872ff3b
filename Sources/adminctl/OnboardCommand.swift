import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Terminal

extension Adminctl {
    static func openAccess() async throws -> DeveloperAccess {
        try await DeveloperAccess.open(directory: FileManager.default.currentDirectoryPath,
                                       environment: ProcessInfo.processInfo.environment,
                                       http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
    }

    static var defaultBundleDirectory: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.config/adminctl/access-bundles"
    }

    struct Onboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a developer their own machine and the one file that opens it.",
            discussion: """
                Creates the developer's stack (<project>-dev-<name>, from \
                adminctl/templates/developer.yaml): a machine tagged Owner=<name> and Role=devbox in \
                a private subnet, a security group that admits nothing, an instance role that reads \
                only the production dumps and the devbox tool, and an IAM user allowed Session \
                Manager sessions on that machine only. The change set is shown and each resource's \
                progress printed on stderr. devbox is published to tools/devbox/<version>/ in the \
                artifacts bucket first when that version is not there (one command does it all; \
                the version is adminctl's own, so every machine runs the devbox built with it).

                The access key is made outside CloudFormation and written, with the region, the \
                machine, an ~/.aws/config profile and the `aws ssm start-session` line, to \
                <bundle-dir>/<project>-<name>.aws-access (mode 0600, directory 0700). It is never \
                printed. Then adminctl waits until the machine's agent is online and `devbox \
                doctor` there reports the repository cloned.

                With --store-bundle a copy of the bundle is also kept as the SSM SecureString \
                /<project>/access-bundles/<name> (readable by admins only: developers hold no \
                parameter right, instance roles read only their environment's), for one retrieval \
                where the file cannot be handed over directly; the report prints the command that \
                reads it into a private file and deletes it. Offboarding deletes a copy left there.

                A failure before the bundle is written (the stack rolled back, the key refused) \
                removes everything made for the developer.

                Examples:
                  adminctl onboard alice --email alice@example.com
                  adminctl onboard bob --bundle-dir ~/handover --yes
                  adminctl onboard carol --store-bundle --yes

                Exit status: 0 when the machine is ready, 1 when onboarding failed or the machine \
                was not ready in time (the error says what is kept), 2 for a usage error.
                """
        )

        @Argument(help: "The developer's name: their IAM user and Owner tag (2-32 lowercase letters and digits).")
        var name: String

        @Option(help: "The developer's email, kept as a tag of their IAM user.")
        var email: String?

        @Option(help: "The machine's EC2 instance type (default t3.medium).")
        var instanceType: String?

        @Option(help: ArgumentHelp("Where the access bundle is written.", valueName: "dir"), completion: .directory)
        var bundleDir: String?

        @Option(help: ArgumentHelp("The devbox executable to publish (default: the one beside adminctl).", valueName: "path"),
                completion: .file())
        var devbox: String?

        @Flag(help: "Also keep the bundle as an SSM SecureString for one retrieval (the report says how).")
        var storeBundle = false

        @Option(help: "Seconds to wait for the machine to be ready.")
        var timeout: Int = 600

        @Flag(help: "Create without asking (needed when there is no terminal).")
        var yes = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let problem = DeveloperName.problem(name) { throw ValidationError("\(problem).") }
            if timeout < 1 { throw ValidationError("--timeout takes a number of seconds, at least 1.") }
            // CloudFormation refuses both by the template's patterns, but only once the change set is asked for.
            if let email, let problem = Onboarding.emailProblem(email) { throw ValidationError("\(problem).") }
            if let instanceType, let problem = AdminConfig.schema.setting("dev.instance_type")?.problem(with: instanceType) {
                throw ValidationError("--instance-type \(problem).")
            }
        }

        func run() async throws {
            if !yes, isatty(STDIN_FILENO) != 1 {
                throw ValidationError("adminctl onboard asks before it creates the developer's stack, and there is no terminal "
                    + "to ask on: add --yes.")
            }
            let console = output.console
            var onboarding = Onboarding(access: try await Adminctl.openAccess(), developer: name, email: email,
                                        instanceType: instanceType, bundleDirectory: bundleDir ?? Adminctl.defaultBundleDirectory,
                                        devboxVersion: ToolVersion.number, devboxBinary: devbox)
            onboarding.readinessTimeout = .seconds(timeout)
            onboarding.storeBundle = storeBundle
            let yes = yes
            let report = try await onboarding.run(console: console) { plan in
                if yes { return true }
                return try await Prompt.confirm("Create \(plan.stack)?", output: console.err) ?? false
            }
            try console.present(report, text: report.render)
        }
    }
}
