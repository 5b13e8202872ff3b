@testable import DevboxKit
@testable import DumpImport
import Foundation
import Terminal
import Testing
import TestSupport

/// Where sync-db keeps a dump: always inside the cache, whatever the object's key says.
@Suite struct DumpCacheTests {
    func dump(_ key: String) -> PublishedDump {
        PublishedDump(bucket: "shop-dumps", key: key, size: 10, lastModified: nil, eTag: "\"e\"", sha256: String(repeating: "0", count: 64))
    }

    /// S3 accepts `dumps/prod/../../../../etc/x.sql.gz` as a key (whoever can write under the prefix
    /// can publish one); its copy went to that path, the lock file first.
    @Test func aKeyClimbingOutOfTheCacheIsRefusedBeforeAnythingIsWritten() throws {
        let home = try TemporaryDirectory()
        defer { home.remove() }
        let paths = DevboxPaths(environment: ["HOME": home.path])
        let cache = DumpCache(paths: paths, console: Console.standard())
        let climbing = dump("dumps/prod/../../../../escaped/x.sql.gz")
        #expect(throws: ImportError.self) { try cache.hold(climbing) }
        // Four levels up from <cache>/dumps/shop-dumps/dumps/prod is <cache>/escaped.
        #expect(!FileManager.default.fileExists(atPath: "\(paths.cache)/escaped"))
        do {
            _ = try cache.file(for: climbing)
            Issue.record("a climbing key was given a cache file")
        } catch let error as ImportError {
            #expect(error.message.contains("is not cached: a '..' in its key would put the file outside \(paths.cache)/dumps"), "\(error)")
        }
        #expect(try cache.file(for: dump("dumps/prod/2026-11-29T030000Z.sql.gz"))
            == "\(paths.cache)/dumps/shop-dumps/dumps/prod/2026-11-29T030000Z.sql.gz")
        #expect(try cache.file(for: dump("dumps/prod/a..b.sql.gz")).hasSuffix("/dumps/prod/a..b.sql.gz"))
    }
}
