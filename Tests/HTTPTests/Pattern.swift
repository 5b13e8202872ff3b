import Testing

/// The byte at `offset` of the server's /bytes/N pattern (see testserver.py).
enum Pattern {
    static let period = 1_000_003
    static let block: [UInt8] = (0..<period).map { UInt8(truncatingIfNeeded: (UInt64($0) &* 2654435761) >> 13) }

    /// An opaque answer so a failing `#expect` does not print megabytes of bytes.
    struct Verdict: CustomTestStringConvertible, Equatable {
        var firstMismatch: Int?
        var testDescription: String { firstMismatch.map { "mismatch at byte \($0)" } ?? "matches" }
    }

    static func check(_ bytes: [UInt8], from offset: Int = 0) -> Verdict {
        for (index, byte) in bytes.enumerated() where block[(offset + index) % period] != byte {
            return Verdict(firstMismatch: index)
        }
        return Verdict(firstMismatch: nil)
    }
}
