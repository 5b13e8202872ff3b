import Foundation
import Nuvola

/// The name a production dump is published under: `dumps/prod/<UTC time>.sql.gz` with the time
/// as `2026-11-29T030000Z` (README: the dump convention `devbox sync-db` consumes).
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
}
