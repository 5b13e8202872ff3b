import AWS
import Foundation
import HTTP
import Nuvola
import Terminal

/// `adminctl release build` and `adminctl releases`: one environment's releases, its lock and
/// the builder, from adminctl.toml and the shared stack's outputs.
public struct EnvironmentReleases: Sendable {
    public var environment: AppEnvironment
    public var config: AdminConfig
    public var catalog: ReleaseCatalog
    public var lock: DeployLock
    public var processEnvironment: [String: String]

    /// Reads adminctl.toml; the artifacts bucket is `buckets.artifacts`, else the shared stack's
    /// `ArtifactsBucketName` output.
    public static func open(_ environment: AppEnvironment, directory: String, processEnvironment: [String: String],
                            http: HTTPClient) async throws -> EnvironmentReleases {
        let session = try await AdminSession.open(directory: directory, environment: processEnvironment, http: http)
        return try await open(environment, session: session)
    }

    /// The same from a session already open (a deploy opens one for its releases, group and fleet).
    public static func open(_ environment: AppEnvironment, session: AdminSession) async throws -> EnvironmentReleases {
        let processEnvironment = session.environment
        let config = session.config
        let project = try session.project()
        let client = session.client
        var bucket = config.value("buckets.artifacts") ?? ""
        if bucket.isEmpty {
            guard let name = try await session.sharedOutputs()["ArtifactsBucketName"] else {
                throw DeployError(.configuration, "The artifacts bucket is not known: the shared stack has no ArtifactsBucketName output "
                    + "and buckets.artifacts is empty. Run `adminctl infra up` to bring the shared infrastructure up to date.")
            }
            bucket = name
        }
        let names = ParameterNames(project: project)
        let ssm = SSM(client)
        let catalog = ReleaseCatalog(ssm: ssm, s3: S3(client), bucket: bucket, names: names, environment: environment)
        let lease = TimeInterval(config.layers.integer("deploy.lock_lease_seconds"))
        return EnvironmentReleases(environment: environment, config: config, catalog: catalog,
                                   lock: DeployLock(ssm: ssm, names: names, environment: environment, lease: lease),
                                   processEnvironment: processEnvironment)
    }

    /// The branch an environment runs when no ref is given: repository.integration_branch for
    /// dev, repository.production_branch for prod.
    public var defaultRef: String {
        switch environment {
        case .dev: config.value("repository.integration_branch") ?? "new_features"
        case .prod: config.value("repository.production_branch") ?? "main"
        }
    }

    public func builder() throws -> ReleaseBuilder {
        guard let url = config.repositoryURL, !url.isEmpty, let project = config.projectName else {
            throw DeployError(.configuration, "repository.url is not set, so there is nothing to build from. Set it in adminctl.toml "
                + "(`[repository] url = \"https://github.com/acme/nuvola.git\"`) or ADMINCTL_REPOSITORY_URL.")
        }
        let repository = AdminRepository(url: url, project: project, environment: processEnvironment)
        let work = (repository.path as NSString).deletingLastPathComponent + "/../builds"
        return ReleaseBuilder(repository: repository, catalog: catalog, buildStep: BuildStep(command: config.value("release.build")),
                              environment: processEnvironment, workDirectory: (work as NSString).standardizingPath)
    }

    /// `release build`: under the environment's deploy lock, because publishing adds to the
    /// releases a deploy chooses from (and a deploy builds its release the same way, inside its
    /// own hold of the lock).
    public func build(ref: String?, forceUnlock: Bool, console: Console) async throws -> ReleaseBuilder.Report {
        let builder = try builder()
        let ref = ref ?? defaultRef
        let holder = DeployLock.holderName(environment: processEnvironment)
        if forceUnlock, let previous = try await lock.forceUnlock(by: holder) {
            console.note("Removed the \(environment.rawValue) deploy lock held by \(previous.holder) (\(previous.purpose)).")
        }
        let hold = try await lock.acquire(holder: holder, purpose: "release build", release: ref) { console.note($0) }
        return try await hold.holding {
            try await builder.build(ref: ref, builtBy: holder) { console.note($0) }
        }
    }

    /// What `adminctl releases` prints.
    public struct ListReport: Sendable, Encodable {
        public struct Item: Sendable, Encodable {
            public var id: String
            public var commit: String
            public var ref: String
            public var subject: String
            public var builtAt: Date
            public var builtBy: String
            public var build: String?
            public var key: String
            public var size: Int64
            public var sha256: String
            /// The release pointer names it: instances install it.
            public var current: Bool
            /// Its tarball (or checksum) is missing from the bucket: it cannot be deployed.
            public var artifactMissing: Bool
        }

        public var environment: AppEnvironment
        public var bucket: String
        public var current: String?
        public var releases: [Item]
        /// The environment's deploy lock as last written (released or expired ones too), and
        /// whether it is in force now.
        public var lock: DeployLease?
        public var locked: Bool

        public func render(_ policy: ColorPolicy) -> String {
            var lines: [String] = []
            if releases.isEmpty {
                lines.append("No release of \(environment.rawValue) is built yet: `adminctl release build \(environment.rawValue)` makes one.")
            } else {
                let rows = releases.reversed().map { item in
                    [item.current ? "*" : " ", item.id, String(item.commit.prefix(7)), Printable.escaping(item.ref),
                     ISO8601DateFormatter().string(from: item.builtAt), Format.bytes(item.size), String(item.sha256.prefix(12)),
                     item.artifactMissing ? "artifact missing" : ""]
                }
                lines.append(Table(headers: ["", "release", "commit", "ref", "built", "size", "sha256", ""], rows: rows).render(policy))
            }
            lines.append(current.map { "Current (the release pointer): \($0)." } ?? "Current: none deployed yet.")
            if let lock, locked {
                lines.append("Locked by \(lock.holder) (\(lock.purpose)\(lock.release.map { " of \($0)" } ?? "")) until "
                    + "\(ISO8601DateFormatter().string(from: lock.expiresAt)) unless renewed.")
            }
            return lines.joined(separator: "\n")
        }
    }

    public func list() async throws -> ListReport {
        async let releases = catalog.releases()
        async let current = catalog.current()
        async let present = catalog.artifacts()
        async let lease = lock.current()
        let (all, pointer, objects) = try await (releases, current, present)
        let items = all.map { release in
            ListReport.Item(id: release.id, commit: release.commit, ref: release.ref, subject: release.subject, builtAt: release.builtAt,
                            builtBy: release.builtBy, build: release.build, key: release.key, size: release.size,
                            sha256: release.sha256, current: release.id == pointer,
                            artifactMissing: objects[release.key] == nil || objects[release.key + ".sha256"] == nil)
        }
        let lock = try await lease
        return ListReport(environment: environment, bucket: catalog.bucket, current: pointer, releases: items, lock: lock,
                          locked: lock.map { !$0.isFree(at: Date()) } ?? false)
    }
}
