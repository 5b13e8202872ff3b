import AWS
import Archive
import Foundation
import Git
import Host
import Nuvola
import Terminal

/// Builds a release of an environment: fetch the admin's clone, resolve the ref, reuse a release
/// of that commit and build step when one is published, else export the tree, run the build
/// step, write the deterministic tarball, and publish it.
public struct ReleaseBuilder: Sendable {
    public var repository: AdminRepository
    public var catalog: ReleaseCatalog
    public var buildStep: BuildStep
    public var environment: [String: String]
    /// Where exports and tarballs are made (removed afterwards).
    public var workDirectory: String
    public var clock: @Sendable () -> Date = Date.init

    public init(repository: AdminRepository, catalog: ReleaseCatalog, buildStep: BuildStep, environment: [String: String],
                workDirectory: String) {
        self.repository = repository
        self.catalog = catalog
        self.buildStep = buildStep
        self.environment = environment
        self.workDirectory = workDirectory
    }

    /// What a build did, and how long each phase took (seconds).
    public struct Report: Sendable, Encodable {
        public var release: Release
        public var bucket: String
        /// False when a published release of the same commit and build step was reused.
        public var built: Bool
        public var files: Int?
        public var contentBytes: Int64?
        public var phases: [String: Double]
        public var seconds: Double

        public func render() -> String {
            let r = release
            var lines = [built ? "Built release \(r.id) of \(r.environment.rawValue)."
                               : "Release \(r.id) of \(r.environment.rawValue) is already built from this commit; reused, nothing rebuilt."]
            lines.append("  commit   \(r.commit.prefix(12)) \(Printable.escaping(r.subject)) (from \(Printable.escaping(r.ref)))")
            lines.append("  build    \(r.build.map { Printable.escaping($0) } ?? "none")")
            lines.append("  artifact s3://\(bucket)/\(Printable.escaping(r.key)) (\(Format.bytes(r.size)), sha256 \(r.sha256))")
            if built, let files {
                let order = ["fetch", "export", "build", "archive", "upload"]
                let times = order.compactMap { name in phases[name].map { "\(name) \(String(format: "%.2f", $0)) s" } }
                lines.append("  \(files) files, \(Format.bytes(contentBytes ?? 0)) → \(Format.bytes(r.size)); " + times.joined(separator: ", "))
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Builds (or finds) the release of `ref`. `note` hears each phase as it starts.
    public func build(ref: String, builtBy: String, note: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        let started = ContinuousClock.now
        var phases: [String: Double] = [:]
        func timed<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
            let start = ContinuousClock.now
            defer { phases[name] = Self.seconds(since: start) }
            return try await body()
        }
        let environmentName = catalog.environment
        note("Fetching \(repository.url)…")
        let resolved = try await timed("fetch") { try await resolve(ref) }
        let (commit, tree, build) = (resolved.commit, resolved.tree, resolved.build)
        let path = repository.path
        if let existing = resolved.existing {
            return Report(release: existing, bucket: catalog.bucket, built: false, phases: phases, seconds: Self.seconds(since: started))
        }

        removeAbandonedScratch()
        // Whole seconds, as in the id: the record then reads back equal to what was written. Ids
        // sort in build order (rollback's "the one before"): a release built in the same second
        // as the newest one is dated a second after it.
        var builtAt = Date(timeIntervalSince1970: clock().timeIntervalSince1970.rounded(.down))
        if let newest = try await catalog.releases().last?.builtAt, builtAt <= newest {
            builtAt = newest.addingTimeInterval(1)
        }
        let id = Release.id(builtAt: builtAt, commit: commit.id)
        let scratch = workDirectory + "/" + id + "-" + UUID().uuidString.prefix(8)
        let export = scratch + "/tree", tarball = scratch + "/\(id).tar.gz"
        try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        note("Exporting \(commit.shortID) (\(commit.subject))…")
        try await timed("export") {
            _ = try await Blocking.run { cancel in try Repository.open(path).exportTree(of: commit.id, to: export) { cancel.isCancelled } }
        }
        if let build {
            note("Building: \(build)")
            try await timed("build") { try await BuildStep.run(build, in: export, environment: environment) }
        }
        note("Writing the tarball…")
        let summary = try await timed("archive") {
            do {
                return try await Blocking.run { cancel in
                    try DeterministicTarball.write(export, to: tarball) { cancel.isCancelled }
                }
            } catch let error as ArchiveError {
                throw DeployError(.archive, "Writing the release tarball failed: \(error)")
            }
        }
        let checksum = try await Blocking.run { _ in try FileDigest.sha256Hex(path: tarball) }
        let release = Release(id: id, environment: environmentName, commit: commit.id, ref: ref, tree: tree, subject: commit.subject,
                              builtAt: builtAt, builtBy: builtBy, build: build, key: BucketLayout.artifact(environmentName, release: id),
                              size: summary.archiveBytes, sha256: checksum)
        note("Uploading \(Format.bytes(summary.archiveBytes)) to s3://\(catalog.bucket)/\(release.key)…")
        try await timed("upload") { try await catalog.publish(release, tarball: tarball) }
        return Report(release: release, bucket: catalog.bucket, built: true, files: summary.files, contentBytes: summary.contentBytes, phases: phases,
                      seconds: Self.seconds(since: started))
    }

    /// What a ref names after fetching: its commit and tree, the build step that would run, and
    /// the published release of them when there is one (then nothing would be built).
    public struct Resolved: Sendable {
        public var commit: GitCommitSummary
        public var tree: String
        public var build: String?
        public var existing: Release?
    }

    /// Fetches the admin clone and resolves `ref`; changes nothing in AWS (a dry run's look).
    public func resolve(_ ref: String) async throws -> Resolved {
        try await repository.update()
        let path = repository.path
        let (commit, tree, hasComposer) = try await Blocking.run { _ in
            do {
                let repo = try Repository.open(path)
                let commit = try repo.resolveCommit(ref)
                return (commit, try repo.treeID(ofCommit: commit.id), try repo.hasFile("composer.json", in: commit.id))
            } catch let error as GitError where error.kind == .notFound || error.kind == .invalidName {
                throw DeployError(.unknownRef, "\(ref) is not a branch, tag or commit of \(repository.url) (after fetching it). "
                    + "Branches are named without origin/ (`--ref new_features`); `git ls-remote \(repository.url)` lists them.")
            }
        }
        let build = buildStep.effective(hasComposerJSON: hasComposer)
        return Resolved(commit: commit, tree: tree, build: build, existing: try await catalog.existing(commit: commit.id, build: build))
    }

    /// Exports left by builds that were killed (SIGKILL, a crash) before they could clean up:
    /// anything in the work directory untouched for six hours. A build running now (the other
    /// environment's) touched its own directory moments ago.
    func removeAbandonedScratch() {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: workDirectory) else { return }
        let cutoff = clock().addingTimeInterval(-6 * 3600)
        for name in names {
            let path = workDirectory + "/" + name
            if let modified = try? manager.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < cutoff {
                try? manager.removeItem(atPath: path)
            }
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).seconds
    }
}
