import AWS
import Foundation

/// A dump published in S3 by `adminctl db dump prod` (or any producer following the convention
/// in README.md): `<prefix><UTC time>.sql.gz` (any supported extension) and, written last, its
/// SHA-256 in `<key>.sha256` (`sha256sum` format) or in the object's `x-amz-meta-sha256`.
public struct PublishedDump: Sendable, Encodable, Equatable {
    public var bucket: String
    public var key: String
    public var size: Int64
    public var lastModified: Date?
    public var eTag: String
    /// Hex SHA-256 the producer published; nil only for a dump named with --dump that has none.
    public var sha256: String?
}

/// `s3://bucket/prefix/`.
public struct DumpLocation: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    public var prefix: String

    public init(_ text: String) throws(ImportError) {
        guard text.hasPrefix("s3://") else {
            throw ImportError(.usage, "dumps.location must look like s3://bucket/prefix/ (it is \(text)).")
        }
        let rest = text.dropFirst("s3://".count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bucket = parts.first, !bucket.isEmpty else {
            throw ImportError(.usage, "dumps.location must name a bucket: s3://bucket/prefix/ (it is \(text)).")
        }
        self.bucket = String(bucket)
        prefix = parts.count > 1 ? String(parts[1]) : ""
    }

    public var description: String { "s3://\(bucket)/\(prefix)" }
}

/// Finds dumps in S3.
public struct DumpCatalog: Sendable {
    public var s3: S3
    public var location: DumpLocation

    public init(s3: S3, location: DumpLocation) {
        self.s3 = s3
        self.location = location
    }

    static let extensions = [".sql", ".sql.gz", ".sql.bz2", ".sql.xz", ".sql.zst", ".tar", ".tar.gz", ".tgz", ".tar.bz2",
                             ".tar.xz", ".tar.zst", ".zip"]

    public static func isDump(_ key: String) -> Bool {
        let lower = key.lowercased()
        return extensions.contains { lower.hasSuffix($0) }
    }

    /// The newest complete dump under the location (by LastModified); dumps still without a
    /// published checksum are being written and are skipped. `skipped` lists them.
    public func latest() async throws -> (dump: PublishedDump, skipped: [String]) {
        var objects: [S3Object] = []
        do {
            for try await page in s3.listObjects(bucket: location.bucket, prefix: location.prefix) {
                objects += page.objects
            }
        } catch let error as AWSError {
            throw explain(error, doing: "list \(location)")
        }
        let keys = Set(objects.map(\.key))
        let candidates = objects.filter { Self.isDump($0.key) }
            .sorted { ($0.lastModified ?? .distantPast, $0.key) > ($1.lastModified ?? .distantPast, $1.key) }
        var skipped: [String] = []
        for candidate in candidates {
            if keys.contains(candidate.key + ".sha256") {
                let checksum = try await sidecar(candidate.key)
                return (PublishedDump(bucket: location.bucket, key: candidate.key, size: candidate.size,
                                      lastModified: candidate.lastModified, eTag: candidate.eTag, sha256: checksum), skipped)
            }
            if let head = try? await s3.headObject(bucket: location.bucket, key: candidate.key), let checksum = head.metadata["sha256"] {
                return (PublishedDump(bucket: location.bucket, key: candidate.key, size: head.size, lastModified: head.lastModified,
                                      eTag: head.eTag, sha256: checksum.lowercased()), skipped)
            }
            skipped.append(candidate.key)
        }
        let note = skipped.isEmpty ? "" : " (\(skipped.count) without a published checksum, still being written: \(skipped.prefix(3).joined(separator: ", ")))"
        throw ImportError(.source, "no complete dump under \(location)\(note). Check dumps.location (`devbox config show`), or ask "
            + "your admin to publish one (`adminctl db dump prod`).")
    }

    /// A dump named with --dump (a key under the location's bucket, or a full s3:// URL).
    public func named(_ name: String) async throws -> PublishedDump {
        var bucket = location.bucket
        var key = name
        if name.hasPrefix("s3://") {
            let parsed = try DumpLocation(name)
            bucket = parsed.bucket
            key = parsed.prefix
        } else if !name.hasPrefix(location.prefix) && !name.contains("/") {
            key = location.prefix + name
        }
        let head: S3Object?
        do {
            head = try await s3.headObject(bucket: bucket, key: key)
        } catch let error as AWSError {
            throw explain(error, doing: "read s3://\(bucket)/\(key)")
        }
        guard let head else {
            throw ImportError(.source, "there is no dump s3://\(bucket)/\(key). `devbox sync-db --list` shows the published ones.")
        }
        var checksum = head.metadata["sha256"]?.lowercased()
        if checksum == nil { checksum = try? await sidecar(key, bucket: bucket) }
        return PublishedDump(bucket: bucket, key: key, size: head.size, lastModified: head.lastModified, eTag: head.eTag, sha256: checksum)
    }

    /// Every dump under the location, newest first, with whether its checksum is published.
    public func list() async throws -> [(object: S3Object, complete: Bool)] {
        var objects: [S3Object] = []
        do {
            for try await page in s3.listObjects(bucket: location.bucket, prefix: location.prefix) { objects += page.objects }
        } catch let error as AWSError {
            throw explain(error, doing: "list \(location)")
        }
        let keys = Set(objects.map(\.key))
        return objects.filter { Self.isDump($0.key) }
            .sorted { ($0.lastModified ?? .distantPast) > ($1.lastModified ?? .distantPast) }
            .map { ($0, keys.contains($0.key + ".sha256")) }
    }

    func sidecar(_ key: String, bucket: String? = nil) async throws -> String {
        let bytes = try await s3.getObject(bucket: bucket ?? location.bucket, key: key + ".sha256")
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        let hex = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first.map(String.init)?.lowercased() ?? ""
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw ImportError(.source, "s3://\(bucket ?? location.bucket)/\(key).sha256 does not hold a SHA-256 (it starts \"\(text.prefix(40))\").")
        }
        return hex
    }

    func explain(_ error: AWSError, doing what: String) -> ImportError {
        switch error.code {
        case "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch":
            return ImportError(.source, "S3 refused to \(what): \(error.code) (\(error.message)). This machine's role may only read its own "
                + "paths: check dumps.location, or ask your admin (`adminctl access show`).")
        case "NoSuchBucket":
            return ImportError(.source, "the bucket of \(location) does not exist (NoSuchBucket). Check dumps.location (`devbox config show`).")
        default:
            return ImportError(.source, "could not \(what): \(error)")
        }
    }
}
