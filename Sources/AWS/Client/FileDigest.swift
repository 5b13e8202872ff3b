import Crypto
import Foundation
import Host

/// Digests of (part of) a file, read in 1 MiB blocks.
public enum FileDigest {
    /// SHA-256 of `length` bytes at `offset` (to the end when nil), lower-case hex.
    public static func sha256Hex(path: String, offset: Int64 = 0, length: Int64? = nil) throws -> String {
        var hasher = SHA256()
        try forEachBlock(path: path, offset: offset, length: length) { hasher.update(data: $0) }
        return Hex.encode(Array(hasher.finalize()))
    }

    /// CRC-32 of `length` bytes at `offset`, base64 as S3 wants it.
    public static func crc32Base64(path: String, offset: Int64 = 0, length: Int64? = nil) throws -> String {
        var crc = CRC32()
        try forEachBlock(path: path, offset: offset, length: length) { block in block.withUnsafeBytes { crc.update($0) } }
        return crc.base64
    }

    static func forEachBlock(path: String, offset: Int64, length: Int64?, _ body: (Data) -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        var remaining = length ?? Int64.max
        while remaining > 0 {
            let block = try handle.read(upToCount: Int(min(remaining, 1 << 20))) ?? Data()
            if block.isEmpty { break }
            body(block)
            remaining -= Int64(block.count)
        }
    }
}
