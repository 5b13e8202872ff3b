import AWS
import Archive
import Foundation
import Host
import Nuvola

/// Files for hosts, through S3: uploaded once (content-addressed by SHA-256, checked by S3 on
/// upload), fetched by each host with a presigned URL (no credentials on the host) and checked
/// against the same SHA-256 there before anything is changed.
public struct FleetTransfer: Sendable {
    public var s3: S3
    public var bucket: String
    /// How long hosts may take to fetch what was staged.
    public var urlLifetime: Duration = .seconds(3600)

    public init(s3: S3, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    /// What was staged: where it is, its digest and the URL hosts fetch it by.
    public struct Staged: Sendable, Encodable {
        public var bucket: String
        public var key: String
        public var name: String
        public var sha256: String
        public var size: Int64
        /// A tar.gz of a directory (unpacked in place) rather than one file.
        public var isArchive: Bool
        var url: String

        enum CodingKeys: String, CodingKey { case bucket, key, name, sha256, size, isArchive }
    }

    /// Stages bytes (a script) under their digest.
    public func stage(bytes: [UInt8], name: String) async throws -> Staged {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adminctl-stage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw FleetError(.localFile, "\(path) could not be written (is the temporary directory full?)")
        }
        return try await stage(path: path)
    }

    /// Stages a local file, or a directory as a tar.gz made with libarchive. An object already
    /// there under the same digest and size is not uploaded again.
    public func stage(path: String) async throws -> Staged {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FleetError(.localFile, "\(path) does not exist: give the file or directory to copy.")
        }
        let name = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        var source = path
        var scratch: String?
        if isDirectory.boolValue {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adminctl-cp-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            scratch = folder
            source = folder + "/\(name).tar.gz"
            do {
                // Sorted entries, one time and owner: the same directory gives the same bytes, so it is
                // uploaded once; permissions kept as they are (a 0600 file stays private on the hosts).
                try DeterministicTarball.write(path, to: source, modes: .kept)
            } catch {
                try? FileManager.default.removeItem(atPath: folder)
                throw FleetError(.localFile, "\(path) could not be packed: \(error)")
            }
        }
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        guard FileManager.default.isReadableFile(atPath: source) else {
            throw FleetError(.localFile, "\(path) cannot be read (permissions?).")
        }
        let hex = try FileDigest.sha256Hex(path: source)
        let size = (try FileManager.default.attributesOfItem(atPath: source)[.size] as? NSNumber)?.int64Value ?? 0
        let objectName = isDirectory.boolValue ? name + ".tar.gz" : name
        let key = BucketLayout.fleetFile(sha256: hex, name: objectName)
        if try await s3.headObject(bucket: bucket, key: key)?.size != size {
            if size < S3.minimumPartSize {
                try await s3.putObject(bucket: bucket, key: key, body: .file(path: source),
                                       checksumSHA256: Data(Self.bytes(hex: hex)).base64EncodedString())
            } else {
                try await s3.upload(file: source, bucket: bucket, key: key)   // multipart, CRC-32 per part
            }
        }
        return Staged(bucket: bucket, key: key, name: name, sha256: hex, size: size, isArchive: isDirectory.boolValue,
                      url: try await s3.presignedURL(bucket: bucket, key: key, expires: urlLifetime))
    }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    /// Exit status a host reports when what it downloaded does not match the digest.
    public static let checksumMismatch = 65

    /// Script lines that fetch `staged` into "$f" and check its SHA-256; a mismatch exits 65
    /// before anything is changed.
    static func download(_ staged: Staged) -> String {
        """
        set -eu
        adminctl_dir=$(mktemp -d /tmp/adminctl.XXXXXX)
        tmp=
        trap 'rm -rf "$adminctl_dir" ${tmp:+"$tmp"}' EXIT
        f="$adminctl_dir/payload"
        if command -v curl >/dev/null 2>&1; then curl -fsS --retry 3 -o "$f" \(Shell.quote(staged.url))
        else wget -q -O "$f" \(Shell.quote(staged.url)); fi
        got=$(sha256sum "$f" | cut -d' ' -f1)
        if [ "$got" != \(Shell.quote(staged.sha256)) ]; then
          echo "adminctl: checksum mismatch for \(staged.name): the download has SHA-256 $got, expected \(staged.sha256); nothing was changed" >&2
          exit \(checksumMismatch)
        fi
        """
    }

    /// A script staged because it was too large to send: fetched, checked, run with bash.
    static func runStaged(_ staged: Staged) -> String {
        download(staged) + "\nset +e\nbash \"$f\"\nexit $?\n"
    }

    /// Puts `staged` at `remote` on each host: a file replaced atomically (rename in its
    /// directory) and checked again in place; a directory's archive unpacked into `remote`.
    /// A `remote` ending in "/" is a directory the file goes into under its own name.
    public static func copyScript(_ staged: Staged, remote: String, owner: String?, mode: String?) -> String {
        var lines = [download(staged)]
        if staged.isArchive {
            lines.append("dest=\(Shell.quote(remote))")
            lines.append("mkdir -p \"$dest\"")
            lines.append("tar -xzf \"$f\" -C \"$dest\" --no-same-owner")
            if let owner { lines.append("chown -R \(Shell.quote(owner)) \"$dest\"") }
            if let mode { lines.append("chmod \(Shell.quote(mode)) \"$dest\"") }
            lines.append("echo \"adminctl-cp $dest sha256 $got (directory)\"")
        } else {
            lines.append(remote.hasSuffix("/") ? "dest=\(Shell.quote(remote + staged.name))" : "dest=\(Shell.quote(remote))")
            lines.append("if [ -d \"$dest\" ]; then dest=\"$dest/\(staged.name)\"; fi")
            lines.append("dir=$(dirname \"$dest\")")
            lines.append("mkdir -p \"$dir\"")
            lines.append("tmp=\"$dir/.adminctl-cp.$$\"")
            lines.append("cp \"$f\" \"$tmp\"")
            if let mode { lines.append("chmod \(Shell.quote(mode)) \"$tmp\"") }
            if let owner { lines.append("chown \(Shell.quote(owner)) \"$tmp\"") }
            lines.append("mv -f \"$tmp\" \"$dest\"")
            lines.append("""
                placed=$(sha256sum "$dest" | cut -d' ' -f1)
                if [ "$placed" != "$got" ]; then echo "adminctl: $dest has SHA-256 $placed after copying, expected $got" >&2; exit \(checksumMismatch); fi
                echo "adminctl-cp $dest sha256 $placed"
                """)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
