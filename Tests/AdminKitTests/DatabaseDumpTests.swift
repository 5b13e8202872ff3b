import Foundation
import Nuvola
import Testing
@testable import AdminKit
import DumpImport

/// The pure parts of `adminctl db`: dump names, which dumps keep-N deletes, the script's report
/// line, and the sanitising rules handed to devbox.
@Suite struct DatabaseDumpTests {
    @Test func dumpNamesFollowTheConventionSyncDBReads() throws {
        let date = Date(timeIntervalSince1970: 1_795_921_200)   // 2026-11-29 03:00:00 UTC
        #expect(DumpName.stamp(date) == "2026-11-29T030000Z")
        #expect(DumpName.key(at: date) == "dumps/prod/2026-11-29T030000Z.sql.gz")
        #expect(DumpName.key(at: date) == BucketLayout.productionDump(stamp: "2026-11-29T030000Z"))
        #expect(BucketLayout.dumpChecksum(DumpName.key(at: date)) == "dumps/prod/2026-11-29T030000Z.sql.gz.sha256")
        #expect(DumpImport.DumpCatalog.isDump(DumpName.key(at: date)))
        #expect(DumpName.stamp(Date(timeIntervalSince1970: 1_795_921_200.9)) == "2026-11-29T030000Z")   // whole seconds
    }

    func entry(_ day: Int, complete: Bool = true, key: String? = nil) -> DumpRetention.Entry {
        DumpRetention.Entry(key: key ?? "dumps/prod/2026-11-\(String(format: "%02d", day))T030000Z.sql.gz",
                            lastModified: Date(timeIntervalSince1970: Double(day) * 86_400), complete: complete)
    }

    @Test func keepNDeletesTheOldestCompleteDumpsAndNeverTheNewestOrUnfinished() {
        let dumps = [entry(3), entry(1), entry(5, complete: false), entry(4), entry(2)]
        #expect(DumpRetention.expired(dumps, keep: 2) == [entry(2).key, entry(1).key])
        #expect(DumpRetention.expired(dumps, keep: 4) == [])
        #expect(DumpRetention.expired(dumps, keep: 10) == [])
        // The newest complete dump stays whatever N says; an unfinished one is never touched.
        #expect(DumpRetention.expired(dumps, keep: 0) == [entry(3).key, entry(2).key, entry(1).key])
        #expect(DumpRetention.expired([entry(9, complete: false)], keep: 1) == [])
        // Newest as discovery orders them: LastModified first, then the key.
        let tie = [entry(1, key: "dumps/prod/a.sql.gz"), entry(1, key: "dumps/prod/b.sql.gz")]
        #expect(DumpRetention.expired(tie, keep: 1) == ["dumps/prod/a.sql.gz"])
    }

    @Test func theScriptsReportLineIsReadBackOrRefused() {
        let sha = String(repeating: "ab", count: 32)
        let output = "adminctl-db: dumping nuvola\n\(DatabaseScripts.publishedMarker) key=dumps/prod/x.sql.gz sha256=\(sha) size=1234\n"
        let published = ProductionDump.Published(output)
        #expect(published?.key == "dumps/prod/x.sql.gz" && published?.sha256 == sha && published?.size == 1234)
        #expect(ProductionDump.Published("nothing here") == nil)
        #expect(ProductionDump.Published("\(DatabaseScripts.publishedMarker) key=k sha256=short size=1") == nil)
    }

    @Test func sanitizeRulesReachDevboxAsTheyWereWritten() throws {
        let rules = [SanitizeRule(table: "customer", column: "email", action: .email),
                     SanitizeRule(table: "user", column: "password", action: .value, value: "$2y$10$\"quoted\"\\back\nline")]
        let text = rules.map(\.configTable).joined(separator: "\n")
        #expect(try SanitizeRule.rules(from: TOML.parse(text), file: "config.toml") == rules)
    }

    @Test func scriptsCarryNoSecretAndTheDumpOptionsSyncDBExpects() {
        let database = DatabaseEndpoint(identifier: "db-1", address: "db-1.x.eu-west-3.rds.amazonaws.com", port: 3306,
                                        database: "nuvola", secretARN: "arn:aws:secretsmanager:eu-west-3:1:secret:rds!db-1")
        let dump = DatabaseScripts.dump(database, bucket: "b", key: "dumps/prod/k.sql.gz", region: "eu-west-3")
        #expect(dump.contains("--defaults-extra-file=\"$work/client.cnf\"") && dump.contains("--single-transaction")
                && dump.contains("--routines --triggers --hex-blob"))
        #expect(!dump.contains("--password") && !dump.contains("MYSQL_PWD") && !dump.contains(" -p"))
        // The checksum goes up only after the dump did.
        let dumpUpload = dump.range(of: "s3://$bucket/$key\" --only-show-errors")!
        let checksumUpload = dump.range(of: "s3://$bucket/$key.sha256\" --only-show-errors --content-type text/plain")!
        #expect(dumpUpload.lowerBound < checksumUpload.lowerBound)
        let refresh = DatabaseScripts.refresh(database, location: "s3://b/dumps/prod/", dumpKey: "s3://b/dumps/prod/k.sql.gz",
                                              rules: [], region: "eu-west-3")
        #expect(refresh.contains("--database-url \"mysql://$user@$host:$port/$database\"") && !refresh.contains("--password"))
    }
}
