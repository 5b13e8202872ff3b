import Foundation

/// Which published dumps `adminctl db dump prod --keep N` deletes: every complete dump (its
/// checksum published) but the newest N, newest as `devbox sync-db` orders them (LastModified,
/// then key). Dumps still without a checksum are never touched: one may be being written. The
/// newest complete dump is never deleted, whatever N.
public enum DumpRetention {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var lastModified: Date?
        public var complete: Bool

        public init(key: String, lastModified: Date?, complete: Bool) {
            self.key = key
            self.lastModified = lastModified
            self.complete = complete
        }
    }

    /// The dump keys to delete (each with its `.sha256`), oldest last.
    public static func expired(_ dumps: [Entry], keep: Int) -> [String] {
        let complete = dumps.filter(\.complete)
            .sorted { ($0.lastModified ?? .distantPast, $0.key) > ($1.lastModified ?? .distantPast, $1.key) }
        return complete.dropFirst(max(1, keep)).map(\.key)
    }
}
