import AWS
import Foundation
import HTTP
import Host
import Nuvola

/// The devbox build developer machines install: `tools/devbox/<version>/` in the artifacts
/// bucket holds `devbox`, `compose.tar.gz` and `SHA256SUMS` (written last, so its presence means
/// the other two are complete). Published once per version; the user data checks both digests.
public struct DevboxRelease: Sendable {
    public var version: String
    /// The devbox executable: `--devbox PATH`, else ADMINCTL_DEVBOX, else the one beside adminctl.
    /// It must be the portable build (`make devbox-static`): developer machines have glibc and nothing else.
    public var binary: String
    /// The compose/ folder: ADMINCTL_COMPOSE, else the first `compose/` walking up from adminctl.
    public var compose: String

    public static func locate(version: String, binary flag: String?, environment: [String: String],
                              executable: String? = SharedStack.executablePath()) throws -> DevboxRelease {
        let directory = executable.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().deletingLastPathComponent().path }
        let binary = flag ?? environment["ADMINCTL_DEVBOX"].flatMap { $0.isEmpty ? nil : $0 } ?? directory.map { "\($0)/devbox" } ?? "devbox"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw AccessError(.devboxMissing, "There is no devbox executable at \(binary) to publish to developer machines. "
                + "Build it with `make devbox-static` (scripts/build-devbox-static: one self-contained executable that needs "
                + "only glibc 2.34, as on Amazon Linux 2023, checked by scripts/check-portable) and pass --devbox .build/release/devbox.")
        }
        var compose = environment["ADMINCTL_COMPOSE"].flatMap { $0.isEmpty ? nil : $0 }
        var current = directory
        while compose == nil, let folder = current {
            if FileManager.default.fileExists(atPath: "\(folder)/compose/compose.yaml") { compose = "\(folder)/compose" }
            let parent = (folder as NSString).deletingLastPathComponent
            current = parent == folder || parent.isEmpty ? nil : parent
        }
        guard let compose else {
            throw AccessError(.devboxMissing, "The compose/ folder developer machines need was not found walking up from "
                + "\(directory ?? "adminctl's directory"). Export ADMINCTL_COMPOSE=/path/to/compose.")
        }
        return DevboxRelease(version: version, binary: binary, compose: compose)
    }

    public var prefix: String { BucketLayout.devboxTool(version: version) }

    /// Whether this version is already in the bucket (its SHA256SUMS is).
    public func isPublished(bucket: String, s3: S3) async throws -> Bool {
        try await s3.headObject(bucket: bucket, key: prefix + "SHA256SUMS") != nil
    }

    /// Uploads devbox and compose.tar.gz, then SHA256SUMS; returns the digests.
    public func publish(bucket: String, s3: S3) async throws -> [String: String] {
        let work = NSTemporaryDirectory() + "adminctl-devbox-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let archive = "\(work)/compose.tar.gz"
        let tar = try await ChildProcess.run("tar", ["-czf", archive, "-C", compose, "."], timeout: .seconds(120))
        guard tar.succeeded else {
            throw AccessError(.devboxMissing, "tar could not pack \(compose): \(tar.errorOutput.suffix(500))")
        }
        let digests = ["devbox": try FileDigest.sha256Hex(path: binary), "compose.tar.gz": try FileDigest.sha256Hex(path: archive)]
        _ = try await s3.upload(file: binary, bucket: bucket, key: prefix + "devbox")
        _ = try await s3.upload(file: archive, bucket: bucket, key: prefix + "compose.tar.gz")
        let sums = digests.keys.sorted().map { "\(digests[$0]!)  \($0)\n" }.joined()
        _ = try await s3.putObject(bucket: bucket, key: prefix + "SHA256SUMS", body: .bytes(Array(sums.utf8)), contentType: "text/plain")
        return digests
    }
}
