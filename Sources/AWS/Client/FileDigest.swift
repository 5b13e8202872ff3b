import Crypto
import Foundation
import SigV4

/// Digests of (part of) a file, read in 1 MiB blocks.
public enum FileDigest {
    /// CRC-32 of `length` bytes at `offset`, base64 as S3 wants it.
    public static func crc32Base64(path: String, offset: Int64 = 0, length: Int64? = nil) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        var crc = CRC32()
        var remaining = length ?? Int64.max
        while remaining > 0 {
            let chunk = try handle.read(upToCount: Int(min(remaining, 1 << 20))) ?? Data()
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { crc.update($0) }
            remaining -= Int64(chunk.count)
        }
        return crc.base64
    }

    public static func sha256Hex(path: String, offset: Int64 = 0, length: Int64? = nil) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        var hasher = SHA256()
        var remaining = length ?? Int64.max
        while remaining > 0 {
            let chunk = try handle.read(upToCount: Int(min(remaining, 1 << 20))) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            remaining -= Int64(chunk.count)
        }
        return Hex.encode(Array(hasher.finalize()))
    }
}
