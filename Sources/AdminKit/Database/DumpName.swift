import Foundation
import Nuvola

/// The name a production dump is published under: `dumps/prod/<UTC time>.sql.gz` with the time
/// as `2026-11-29T030000Z` (README: the dump convention `devbox sync-db` consumes), and the
/// checksum beside it.
public enum DumpName {
    /// `2026-11-29T030000Z`: what `date -u +%Y-%m-%dT%H%M%SZ` prints on the instance too.
    public static func stamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!,
                      parts.hour!, parts.minute!, parts.second!)
    }

    /// `dumps/prod/<stamp>.sql.gz`.
    public static func key(at date: Date) -> String { BucketLayout.productionDump(stamp: stamp(date)) }

    /// The time a key of ours names, or nil for any other name.
    public static func date(ofKey key: String) -> Date? {
        guard key.hasPrefix(BucketLayout.productionDumps), key.hasSuffix(".sql.gz") else { return nil }
        let stamp = key.dropFirst(BucketLayout.productionDumps.count).dropLast(".sql.gz".count)
        let digits = stamp.filter(\.isNumber)
        guard stamp.count == 18, digits.count == 14, stamp.hasSuffix("Z"), Array(stamp)[10] == "T" else { return nil }
        var formatter = DateComponents()
        let number = { (from: Int, count: Int) in Int(String(Array(digits)[from..<(from + count)]))! }
        formatter.year = number(0, 4); formatter.month = number(4, 2); formatter.day = number(6, 2)
        formatter.hour = number(8, 2); formatter.minute = number(10, 2); formatter.second = number(12, 2)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: formatter), stamp == Self.stamp(date) else { return nil }
        return date
    }

    /// `<64 hex>  <file name>\n`, as `sha256sum` writes it (what sync-db reads from `<key>.sha256`).
    public static func checksumLine(sha256: String, key: String) -> String {
        "\(sha256)  \((key as NSString).lastPathComponent)\n"
    }
}
