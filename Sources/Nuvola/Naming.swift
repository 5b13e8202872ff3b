/// What devbox, adminctl and the CloudFormation templates must name alike: tags, the S3
/// layout, parameter names. Change a name here and every side follows.
public enum NuvolaTag {
    /// What a machine is for: `devbox` (a developer's), `app` (prod or dev ASG), `admin`.
    public static let role = "Role"
    /// The developer a devbox machine belongs to (their IAM user name).
    public static let owner = "Owner"
    /// `prod` or `dev`, on app instances and what serves them.
    public static let environment = "Env"
    public static let project = "Project"
    public static let managedBy = "ManagedBy"
}

/// The values of the `Role` tag.
public enum MachineRole: String, Sendable, CaseIterable {
    case devbox, app, admin
}

/// The two environments the app is deployed to.
public enum AppEnvironment: String, Sendable, CaseIterable, Codable {
    case prod, dev
}

/// Where things live in the project's buckets.
public enum BucketLayout {
    /// `artifacts/<env>/`: release tarballs and their `.sha256`.
    public static func artifactsPrefix(_ environment: AppEnvironment) -> String { "artifacts/\(environment.rawValue)/" }

    /// `artifacts/<env>/<release>.tar.gz`.
    public static func artifact(_ environment: AppEnvironment, release: String) -> String {
        artifactsPrefix(environment) + release + ".tar.gz"
    }

    /// `artifacts/<env>/<release>.tar.gz.sha256`: the tarball's SHA-256 in `sha256sum` format, written after it.
    public static func artifactChecksum(_ environment: AppEnvironment, release: String) -> String {
        artifact(environment, release: release) + ".sha256"
    }

    /// `dumps/prod/`: production dumps as `devbox sync-db` reads them (README: the dump convention).
    public static let productionDumps = "dumps/prod/"

    /// `dumps/prod/<UTC time>.sql.gz`, the time as `2026-11-29T030000Z` (what `adminctl db dump
    /// prod` publishes; README: the dump convention).
    public static func productionDump(stamp: String) -> String { productionDumps + stamp + ".sql.gz" }

    /// `<dump key>.sha256`: the dump's SHA-256 in `sha256sum` format, published after the dump.
    public static func dumpChecksum(_ key: String) -> String { key + ".sha256" }

    /// `fleet/output/`: every host's full output of `adminctl run` (Run Command writes
    /// `<command-id>/<instance-id>/awsrunShellScript/0.awsrunShellScript/stdout|stderr` under it).
    public static let fleetOutput = "fleet/output/"

    /// `fleet/files/<sha256>/<name>`: what `adminctl cp` (and a script too large to send inline)
    /// stages once for every host to download by presigned URL.
    public static func fleetFile(sha256: String, name: String) -> String { "fleet/files/\(sha256)/\(name)" }

    /// `tools/devbox/<version>/`: the devbox build developer machines install.
    public static func devboxTool(version: String) -> String { "tools/devbox/\(version)/" }
}

/// SSM Parameter Store names, under `/<project>/`.
public struct ParameterNames: Sendable, Equatable {
    public var project: String

    public init(project: String) { self.project = project }

    /// The release an environment's instances install (at boot too): `/<project>/<env>/release`.
    public func release(_ environment: AppEnvironment) -> String { "/\(project)/\(environment.rawValue)/release" }

    /// Where the releases built for an environment are recorded, one parameter each:
    /// `/<project>/<env>/releases/<release>` (a JSON document: commit, ref, size, checksum, ...).
    public func releases(_ environment: AppEnvironment) -> String { "/\(project)/\(environment.rawValue)/releases/" }

    public func release(_ environment: AppEnvironment, id: String) -> String { releases(environment) + id }

    /// The deploy lock's generations: `/<project>/<env>/deploy-lock/<n>`, each created once
    /// (PutParameter without overwrite), the highest one in force.
    public func deployLock(_ environment: AppEnvironment) -> String { "/\(project)/\(environment.rawValue)/deploy-lock/" }

    /// Everything an environment's instances may read: `/<project>/<env>/`.
    public func environmentPath(_ environment: AppEnvironment) -> String { "/\(project)/\(environment.rawValue)/" }
}

/// A developer's own CloudFormation stack (adminctl/templates/developer.yaml): its machine,
/// security group, instance role and IAM user. `adminctl infra down` refuses while any exists.
public enum DeveloperStackNaming {
    /// The `Role` tag on the stack itself (its machine carries `Role=devbox`).
    public static let stackRole = "devbox-stack"

    /// `<project>-dev-<developer>`.
    public static func stackName(project: String, developer: String) -> String { "\(project)-dev-\(developer)" }

    /// The developer a stack name belongs to, or nil when it is not a developer stack of `project`.
    public static func developer(ofStack name: String, project: String) -> String? {
        let prefix = "\(project)-dev-"
        guard name.hasPrefix(prefix), name.count > prefix.count else { return nil }
        return String(name.dropFirst(prefix.count))
    }
}
