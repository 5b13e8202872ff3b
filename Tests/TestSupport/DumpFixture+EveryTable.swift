import Foundation

extension DumpFixture {
    /// Row counts and checksums of every base table of `name`, also one called `devbox_objects`
    /// (which `summary(of:)` leaves out): for dumps whose tables clash with names devbox once used.
    public func summaryOfEveryTable(of name: String) async throws -> [String: Table] {
        let list = try await database.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = '\(name)' "
                                          + "AND table_type = 'BASE TABLE' ORDER BY table_name")
        var result: [String: Table] = [:]
        for table in list.split(separator: "\n").map(String.init) {
            let count = try await database.sql("SELECT COUNT(*) FROM `\(name)`.`\(table)`").trimmingCharacters(in: .whitespacesAndNewlines)
            let checksum = try await database.sql("CHECKSUM TABLE `\(name)`.`\(table)`").split(separator: "\t").last
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            result[table] = Table(rows: Int(count) ?? -1, checksum: checksum)
        }
        return result
    }
}
