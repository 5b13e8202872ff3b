import Crypto
import Foundation
import SigV4

/// SHA-256 of (part of) a file, read in 1 MiB blocks.
public enum FileDigest {
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
