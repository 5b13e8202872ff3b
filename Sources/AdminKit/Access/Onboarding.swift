import AWS
import Foundation
import Host
import Nuvola
import Terminal

/// `adminctl onboard NAME`: publishes devbox when this version is not in the bucket yet, creates
/// the developer's stack through a change set (shown, then followed event by event), makes their
/// access key outside CloudFormation, writes their access bundle and waits until the machine is
/// ready. Any failure before the bundle is written removes everything made (DeveloperRemoval).
public struct Onboarding: Sendable {
    public var access: DeveloperAccess
    public var developer: String
    public var email: String?
    public var instanceType: String?
    public var bundleDirectory: String
    public var devboxVersion: String
    public var devboxBinary: String?
    public var readinessTimeout: Duration = .seconds(600)
    /// Also keep the bundle as an SSM SecureString for one retrieval (`--store-bundle`).
    public var storeBundle = false

    /// What the developer template's DeveloperEmail pattern (`^(|[^@\\s]+@[^@\\s]+)$`) refuses,
    /// said before CloudFormation says it in its own words; nil when fine.
    public static func emailProblem(_ email: String) -> String? {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let fine = email.isEmpty || (parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !email.unicodeScalars.contains { $0.properties.isWhitespace })
        return fine ? nil : "--email takes one address such as ana@example.com, not \(String(reflecting: email))"
    }

    public init(access: DeveloperAccess, developer: String, email: String?, instanceType: String?, bundleDirectory: String,
                devboxVersion: String, devboxBinary: String?) {
        self.access = access
        self.developer = developer
        self.email = email
        self.instanceType = instanceType
        self.bundleDirectory = bundleDirectory
        self.devboxVersion = devboxVersion
        self.devboxBinary = devboxBinary
    }

    /// What `onboard` did (never the secret).
    public struct Report: Sendable, Encodable {
        public var developer: String
        public var stack: String
        public var instanceId: String
        public var accessKeyId: String
        public var bundle: String
        public var sessionCommand: String
        /// The SecureString holding a copy of the bundle, and how to retrieve it once (`--store-bundle`).
        public var storedParameter: String?
        public var retrieveCommand: String?
        public var devboxVersion: String
        public var devboxPublished: Bool
        public var ready: Bool
        public var secondsToStack: Double
        public var secondsToReady: Double?
        public var checks: [MachineReadiness.Doctor.Check]

        public func render(_ policy: ColorPolicy) -> String {
            var lines = ["\(developer) is onboarded: machine \(instanceId) (stack \(stack)), devbox \(devboxVersion)"
                + (ready ? ", ready" + (secondsToReady.map { " after \(Format.duration($0))" } ?? "") + "." : ".")]
            lines.append("Access bundle (hand it to \(developer); it holds key \(accessKeyId)): \(bundle)")
            if let storedParameter, let retrieveCommand {
                lines.append("A copy is stored as SecureString \(storedParameter), for one retrieval: \(retrieveCommand)")
            }
            lines.append("They open a shell with: \(sessionCommand)")
            return lines.joined(separator: "\n")
        }
    }

    public func run(console: Console, confirm: @Sendable (StackPlan) async throws -> Bool) async throws -> Report {
        let (repository, artifacts) = try await preflight()
        let stack = DeveloperStack(project: access.project, developer: developer)
        let release = try DevboxRelease.locate(version: devboxVersion, binary: devboxBinary, environment: access.environment)
        var published = false
        if try await !release.isPublished(bucket: artifacts, s3: access.s3) {
            console.note("Publishing devbox \(devboxVersion) to s3://\(artifacts)/\(release.prefix)…")
            _ = try await release.publish(bucket: artifacts, s3: access.s3)
            published = true
        }

        let template = try SharedStack.template(environment: access.environment, file: DeveloperStack.templateFile)
        var deployment = StackDeployment(cloudFormation: access.cloudFormation, stack: stack, template: template.body,
                                         parameters: stack.parameters(shared: access.sharedStackName, version: devboxVersion,
                                                                      repository: repository, branch: access.integrationBranch,
                                                                      email: email, instanceType: instanceType))
        deployment.pollInterval = access.pollInterval
        let started = ContinuousClock.now
        let removal = DeveloperRemoval(access: access, developer: developer)
        let plan = try await deployment.plan()
        if !console.isJSON { console.note(plan.render(console.errColors)) }
        guard try await confirm(plan) else {
            await deployment.discard(plan)
            throw AccessError(.notReady, "Not confirmed: nothing was created for \(developer).")
        }
        console.note("Creating \(stack.name)…")
        let settled: CloudFormation.Stack
        let key: IAM.AccessKey
        let bundlePath: String
        var stored: String?
        do {
            settled = try await deployment.execute(plan) { event in console.note(StackEventLine(event).text) }
            guard let instance = settled.outputs["InstanceId"] else {
                throw AccessError(.stackFailed, "Stack \(stack.name) has no InstanceId output.")
            }
            key = try await access.iam.createAccessKey(user: developer)
            let bundle = AccessBundle(project: access.project, developer: developer, region: access.region,
                                      instanceID: instance, key: key)
            bundlePath = try bundle.write(directory: bundleDirectory)
            if storeBundle { stored = try await bundle.store(ssm: access.ssm) }
        } catch {
            throw await rollBack(after: error, stack: stack, removal: removal, console: console)
        }
        let instance = settled.outputs["InstanceId"] ?? ""
        let secondsToStack = Self.seconds(since: started)
        console.note("\(stack.name): \(settled.status) in \(Format.duration(secondsToStack)); access bundle written to \(bundlePath).")
        var report = Report(developer: developer, stack: stack.name, instanceId: instance, accessKeyId: key.accessKeyID,
                            bundle: bundlePath, sessionCommand: AccessBundle(project: access.project, developer: developer,
                                                                             region: access.region, instanceID: instance,
                                                                             key: key).sessionCommand,
                            storedParameter: stored,
                            retrieveCommand: stored.map { _ in AccessBundle.retrieveCommand(project: access.project, developer: developer,
                                                                                              region: access.region) },
                            devboxVersion: devboxVersion, devboxPublished: published, ready: false,
                            secondsToStack: secondsToStack, checks: [])
        let ready = try await waitReady(instance, stack: stack, bundle: bundlePath, console: console)
        report.ready = true
        report.secondsToReady = Self.seconds(since: started)
        report.checks = ready.checks
        return report
    }

    /// Waits until the machine's agent is online and `devbox doctor` there says it is ready; stopped
    /// on the way, says what is kept and how to remove it.
    func waitReady(_ instance: String, stack: DeveloperStack, bundle: String, console: Console) async throws -> MachineReadiness.Ready {
        let readiness = MachineReadiness(ssm: access.ssm, instanceID: instance, poll: access.pollInterval, timeout: readinessTimeout)
        do {
            return try await readiness.wait { console.note($0) }
        } catch where Task.isCancelled {
            // Stopped while the machine sets up: what is made stays (as when it never gets ready), and the admin is told.
            console.note("\(developer)'s machine \(instance) (stack \(stack.name)) and access bundle \(bundle) are kept; the "
                + "machine was not seen ready. `adminctl devs` shows it; `adminctl offboard \(developer) --yes` removes it.")
            throw error
        }
    }

    /// What must hold before anything is made: a valid name, the repository machines clone, a
    /// bundle directory of the admin's own, no such developer yet, the shared stack's bucket.
    func preflight() async throws -> (repository: String, artifacts: String) {
        if let problem = DeveloperName.problem(developer) {
            throw AccessError(.invalidName, "\(problem). Choose a name such as `alice` or `bob2`.")
        }
        guard let repository = access.repositoryURL, !repository.isEmpty else {
            throw AccessError(.notReady, "adminctl.toml sets no repository.url, which developer machines clone: "
                + "`adminctl config set repository.url https://github.com/acme/nuvola.git` (or edit adminctl.toml).")
        }
        _ = try AccessBundle.checkDirectory(bundleDirectory)
        let stack = DeveloperStack(project: access.project, developer: developer)
        if let existing = try await access.cloudFormation.stack(stack.name), existing.status != "DELETE_COMPLETE" {
            throw AccessError(.duplicate, "\(developer) is already onboarded (stack \(stack.name) is \(existing.status)). "
                + "`adminctl devs` lists developers; `adminctl offboard \(developer)` removes this one first.")
        }
        if try await access.iam.getUser(developer) != nil {
            throw AccessError(.duplicate, "An IAM user named \(developer) already exists outside adminctl's stacks; a developer "
                + "cannot take that name. Choose another, or remove that user if it is a leftover (`adminctl offboard \(developer)`).")
        }
        let outputs = try await access.sharedOutputs()
        guard let artifacts = outputs["ArtifactsBucketName"] else {
            throw AccessError(.notReady, "The shared stack has no ArtifactsBucketName output: run `adminctl infra up`.")
        }
        return (repository, artifacts)

    }

    /// After a failure while the stack is made or the access handed over: removes what was made
    /// (its own task, so a Ctrl-C does not stop it) and returns the error to throw, saying so.
    func rollBack(after error: any Error, stack: DeveloperStack, removal: DeveloperRemoval, console: Console) async -> any Error {
        console.note("Onboarding \(developer) failed; removing what was made…")
        var leftover: (any Error)?
        do {
            let removed = try await Task.detached { [removal] in try await removal.run(progress: { _ in }) }.value
            if !removed.isEmpty { console.note("Removed: \(removed.joined(separator: ", ")).") }
        } catch let cleanup {
            leftover = cleanup
            console.note("Not everything could be removed (\(cleanup)); `\(stack.deleteCommand)` finishes it.")
        }
        if let infra = error as? InfraError {
            // StackDeployment names the resource that failed and CloudFormation's reason; what it
            // says of the stack's state is past: the stack is gone.
            var cause = (infra.message.components(separatedBy: ". The stack is now").first ?? infra.message)
                .replacingOccurrences(of: "The change to", with: "Creating")
            while cause.hasSuffix(".") { cause.removeLast() }   // CloudFormation's reason may end a sentence
            let next = leftover == nil
                ? "; everything made for \(developer) was removed (stack and IAM user), so nothing blocks a retry: fix the "
                    + "cause and run `\(stack.retryCommand)` again."
                : "; not everything made for \(developer) could be removed (\(leftover!)): run `\(stack.deleteCommand)`, "
                    + "then `\(stack.retryCommand)`."
            return AccessError(.stackFailed, cause + ". CloudFormation rolled the stack back" + next)
        }
        return error
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).seconds
    }
}
