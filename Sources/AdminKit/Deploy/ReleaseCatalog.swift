import AWS
import Foundation
import Nuvola

/// The releases of one environment: their records in Parameter Store, their artifacts in S3, and
/// the release pointer (`/<project>/<env>/release`) naming the one instances install.
public struct ReleaseCatalog: Sendable {
    public var ssm: SSM
    public var s3: S3
    public var bucket: String
    public var names: ParameterNames
    public var environment: AppEnvironment

    public init(ssm: SSM, s3: S3, bucket: String, names: ParameterNames, environment: AppEnvironment) {
        self.ssm = ssm
        self.s3 = s3
        self.bucket = bucket
        self.names = names
        self.environment = environment
    }

    /// Every recorded release, oldest first (ids sort by build time).
    public func releases() async throws -> [Release] {
        var result: [Release] = []
        let path = String(names.releases(environment).dropLast())
        for try await page in ssm.getParametersByPath(path, recursive: false) {
            for parameter in page {
                guard let value = parameter.Value,
                      let release = try? DeployLock.decoder.decode(Release.self, from: Data(value.utf8)) else { continue }
                result.append(release)
            }
        }
        return result.sorted { $0.id < $1.id }
    }

    /// The release the pointer names (nil when none was deployed yet, or it says `none`).
    public func current() async throws -> String? {
        guard let value = try await ssm.getParameter(names.release(environment))?.Value, value != "none", !value.isEmpty else {
            return nil
        }
        return value
    }

    /// The artifact keys present in the bucket, with their sizes.
    public func artifacts() async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for try await page in s3.listObjects(bucket: bucket, prefix: BucketLayout.artifactsPrefix(environment)) {
            for object in page.objects { result[object.key] = object.size }
        }
        return result
    }

    /// The recorded release `id` whose artifact (at its recorded size) and checksum are in S3:
    /// what a deploy, a rollback or a refresh may install. Anything else is `.unknownRelease`.
    public func deployable(_ id: String) async throws -> Release {
        let name = environment.rawValue
        guard Release.isValidID(id), let release = try await releases().first(where: { $0.id == id }) else {
            throw DeployError(.unknownRelease, "\(name) has no release \(id) (it was never built, or was pruned). "
                + "`adminctl releases \(name)` lists the ones there are; `adminctl release build \(name)` builds one.")
        }
        let present = try await artifacts()
        guard present[release.key] == release.size, present[release.key + ".sha256"] != nil else {
            throw DeployError(.unknownRelease, "Release \(id) is recorded but its artifact s3://\(bucket)/\(release.key) "
                + "(or its .sha256) is missing or not the size recorded, so it cannot be installed. Build its commit again: "
                + "`adminctl release build \(name) --ref \(release.commit.prefix(12))`.")
        }
        return release
    }

    /// A release of this commit built with this build step whose artifact and checksum are still
    /// in S3: building again would give the same bytes, so it is reused.
    public func existing(commit: String, build: String?) async throws -> Release? {
        let present = try await artifacts()
        return try await releases().last { release in
            release.commit == commit && release.build == build && present[release.key] == release.size
                && present[release.key + ".sha256"] != nil
        }
    }

    /// Records in the release's record that it served (the pointer names it now, or named it), once.
    public func markServed(_ id: String, at date: Date = Date()) async throws {
        guard let recorded = try await releases().first(where: { $0.id == id }), recorded.servedAt == nil else { return }
        var served = recorded
        served.servedAt = date
        try await ssm.putParameter(name: names.release(environment, id: id),
                                   value: String(decoding: try DeployLock.encoder.encode(served), as: UTF8.self), overwrite: true,
                                   description: "adminctl release \(id) of \(environment.rawValue)")
    }

    /// Uploads the tarball, then its checksum (last: a release without one is incomplete), then
    /// records the release. A failure leaves no record, so the next build starts afresh.
    public func publish(_ release: Release, tarball: String) async throws {
        do {
            try await s3.upload(file: tarball, bucket: bucket, key: release.key, contentType: "application/gzip",
                                metadata: ["sha256": release.sha256])
            try await s3.putObject(bucket: bucket, key: BucketLayout.artifactChecksum(environment, release: release.id),
                                   body: .string(release.checksumLine), contentType: "text/plain")
            let record = String(decoding: try DeployLock.encoder.encode(release), as: UTF8.self)
            do {
                try await ssm.putParameter(name: names.release(environment, id: release.id), value: record, overwrite: false,
                                           description: "adminctl release \(release.id) of \(environment.rawValue)")
            } catch let error as AWSError where error.code == "ParameterAlreadyExists" {
                // Our own first attempt, whose answer was lost before the retry, when the record says
                // exactly this release; anything else is another release under this id.
                guard try await ssm.getParameter(names.release(environment, id: release.id))?.Value == record else { throw error }
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            throw DeployError(.publish, "Publishing release \(release.id) to s3://\(bucket)/\(release.key) failed: \(error). "
                + "Nothing was recorded, so `adminctl release build \(environment.rawValue)` builds and uploads it again.")
        }
    }
}
