import AWS
import DumpImport
import Foundation
import Nuvola

/// What `adminctl db` works with: the shared stack's databases, dumps bucket and app instances,
/// and the fan-out engine that runs the scripts on one InService instance of an environment.
public struct DatabaseOperations: Sendable {
    public var session: AdminSession
    public var outputs: [String: String]
    public var fleet: FleetRun
    /// Progress and notes (stderr).
    public var onNote: @Sendable (String) -> Void = { _ in }

    public init(session: AdminSession) async throws {
        self.session = session
        outputs = try await session.sharedOutputs()
        let client = session.client
        fleet = FleetRun(ssm: SSM(client), ec2: EC2(client), s3: S3(client), outputBucket: outputs["ArtifactsBucketName"])
        if let interval = session.pollOverride { fleet.pollInterval = (interval, max(interval, .seconds(1))) }
    }

    static func prefix(_ environment: AppEnvironment) -> String { environment == .prod ? "Prod" : "Dev" }

    func output(_ key: String) throws -> String {
        guard let value = outputs[key], !value.isEmpty else {
            throw DatabaseError(.infrastructure, "The shared stack has no \(key) output: run `adminctl infra up` to bring it up to date.")
        }
        return value
    }

    public var region: String { session.client.region }
    public var s3: S3 { S3(session.client) }
    public func dumpsBucket() throws -> String { try output("DumpsBucketName") }

    /// The environment's database: endpoint and secret from the stack's outputs, its database
    /// name from RDS (the instance identifier is the endpoint's first label).
    public func endpoint(_ environment: AppEnvironment) async throws -> DatabaseEndpoint {
        let prefix = Self.prefix(environment)
        let address = try output("\(prefix)DatabaseAddress")
        let identifier = String(address.prefix { $0 != "." })
        guard let instance = try await RDS(session.client).instance(identifier) else {
            throw DatabaseError(.infrastructure, "The \(environment.rawValue) database \(identifier) is not there (the stack names \(address)): "
                + "`adminctl infra status --drift` shows what changed.")
        }
        guard let secret = outputs["\(prefix)DatabaseSecretArn"].flatMap({ $0.isEmpty ? nil : $0 }) ?? instance.masterUserSecretARN else {
            throw DatabaseError(.infrastructure, "The \(environment.rawValue) database keeps no master secret in Secrets Manager "
                + "(ManageMasterUserPassword): `adminctl infra up` sets it.")
        }
        return DatabaseEndpoint(identifier: identifier, address: address,
                                port: Int(outputs["\(prefix)DatabasePort"] ?? "") ?? instance.port ?? 3306,
                                database: instance.databaseName ?? "nuvola", secretARN: secret)
    }

    /// One instance of the environment to run on: InService in its Auto Scaling group (not
    /// launching, not being replaced or terminated) with its agent online; the first by id.
    public func instance(_ environment: AppEnvironment) async throws -> FleetHost {
        let group = try output("\(Self.prefix(environment))AutoScalingGroupName")
        let members = try await AutoScaling(session.client).group(group)?.instances ?? []
        let inService = Set(members.filter { $0.lifecycleState == "InService" && $0.healthStatus == "Healthy" }.map(\.id))
        let hosts: [FleetHost]
        do {
            hosts = try await fleet.resolve(FleetSelection(environment: environment))
        } catch let error as FleetError where error.kind == .noTargets {
            hosts = []
        }
        let candidates = hosts.filter { inService.contains($0.instanceID) }.sorted { $0.instanceID < $1.instanceID }
        guard let chosen = candidates.first(where: \.isOnline) else {
            let why = inService.isEmpty ? "the group \(group) has no InService instance"
                : "none of its \(inService.count) InService instance(s) has its Systems Manager agent online"
            throw DatabaseError(.noInstance, "No \(environment.rawValue) instance can run this: \(why). `adminctl status \(environment.rawValue)` "
                + "shows the instances; `adminctl scale \(environment.rawValue) --desired N` starts some.")
        }
        return chosen
    }

    /// Runs `script` on `host`; the host's result, or CancellationError after Ctrl-C (Run
    /// Command was told to cancel).
    func run(_ script: String, display: String, on host: FleetHost, timeoutSeconds: Int) async throws -> HostResult {
        let command = FleetCommand(script: script, display: display)
        let report = try await fleet.run(command, on: [host], selection: FleetSelection(instanceIDs: [host.instanceID]),
                                         limits: FleetLimits(timeoutSeconds: timeoutSeconds), onNote: onNote, onResult: { _ in })
        if report.interrupted || Task.isCancelled { throw CancellationError() }
        guard let result = report.hosts.first else {
            throw DatabaseError(.instance, "Run Command returned no result for \(host.instanceID).")
        }
        return result
    }

    /// The error a failed script's result stands for: its exit code's kind and its last words.
    func failure(_ result: HostResult, doing what: String) -> DatabaseError {
        let said = result.stderr.split(separator: "\n").filter { $0.hasPrefix("adminctl-db: ") }
            .map { $0.dropFirst("adminctl-db: ".count) }.joined(separator: " ")
        let detail = said.isEmpty ? String(result.stderr.suffix(1500)).trimmingCharacters(in: .whitespacesAndNewlines) : said
        let code = result.exitCode.flatMap { DatabaseScripts.Failure(rawValue: Int32($0)) }
        let instance = result.host.instanceID
        switch result.outcome {
        case .timedOut:
            return DatabaseError(.instance, "\(what) on \(instance) ran out of time (Run Command's execution timeout); nothing was published.")
        case .undeliverable:
            return DatabaseError(.instance, "\(what) could not reach \(instance): \(result.reason ?? result.statusDetails). "
                + "`adminctl run --instance \(instance) -- hostname` checks its agent.")
        default:
            let kind = code?.kind ?? .instance
            let next = switch kind {
            case .dumpFailed: " Check that the database is available (`adminctl infra status`) and reachable from the instance."
            case .credentials: " The instance role must be allowed secretsmanager:GetSecretValue on it: `adminctl infra up` sets that."
            case .uploadFailed: " Nothing was left half-published; run the command again once S3 answers."
            default: ""
            }
            return DatabaseError(kind, "\(what) failed on \(instance) (exit \(result.exitCode.map(String.init) ?? result.statusDetails)): "
                                 + (detail.isEmpty ? "no output." : detail.hasSuffix(".") ? detail : detail + ".") + next)
        }
    }
}
