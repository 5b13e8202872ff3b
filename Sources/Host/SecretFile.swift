import Foundation

/// Files that hold secrets (keys, tokens, passwords): created with mode 0600 from the first
/// byte, written to a temporary name and renamed, so no reader ever sees them half-written or
/// world-readable.
public enum SecretFile {
    public static func write(_ contents: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory,
                                                withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SecretFileError(path: path, operation: "create", code: errno) }
        var failure: SecretFileError?
        do {
            try contents.withUnsafeBytes { try FileDescriptor.writeAll(fd, $0) }
        } catch {
            failure = SecretFileError(path: path, operation: "write", code: (error as? POSIXError)?.code.rawValue ?? EIO)
        }
        if failure == nil, fsync(fd) != 0 { failure = SecretFileError(path: path, operation: "fsync", code: errno) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 {
            failure = SecretFileError(path: path, operation: "rename", code: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// The permission bits of `path`, e.g. 0o600.
    public static func mode(of path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mode) & 0o7777
    }
}

public struct SecretFileError: Error, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var code: Int32
    public var description: String {
        "Could not \(operation) \(path): \(String(cString: strerror(code))). Check the directory exists and is writable."
    }
}
