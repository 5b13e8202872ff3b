import Foundation
import Host

/// A generated production-like database on the test MariaDB and its mariadb-dump
/// (Tests/Fixtures/make_dump.py), with each table's row count and CHECKSUM TABLE value.
public struct DumpFixture: Sendable {
    public struct Table: Decodable, Sendable, Equatable {
        public var rows: Int
        public var checksum: String
    }

    public let directory: TemporaryDirectory
    public let database: TestDatabase
    public let sourceName: String
    public let tables: [String: Table]
    /// The plain SQL dump.
    public var sql: String { directory.file("dump.sql") }

    public static let script = TestEngine.repositoryRoot + "/Tests/Fixtures/make_dump.py"

    public init(tables: Int = 4, rows: Int = 60, textBytes: Int = 200, objects: Bool = true) async throws {
        database = try await TestDatabase.shared()
        directory = try TemporaryDirectory()
        sourceName = "src_" + UUID().uuidString.prefix(8).lowercased()
        var arguments = [Self.script, "--socket", database.socket, "--database", sourceName, "--out", directory.file("dump.sql"),
                         "--tables", String(tables), "--rows", String(rows), "--text-bytes", String(textBytes)]
        if objects { arguments.append("--objects") }
        let result = try await ChildProcess.run("python3", arguments, timeout: .seconds(600))
        guard result.succeeded else { throw TestDatabaseError(message: "make_dump.py: \(result.errorOutput)") }
        struct Output: Decodable { var tables: [String: Table] }
        self.tables = try JSONDecoder().decode(Output.self, from: Data(result.standardOutput)).tables
    }

    /// Row counts and checksums of `database`'s base tables, as the fixture reports its own.
    public func summary(of name: String) async throws -> [String: Table] {
        let list = try await database.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = '\(name)' "
                                          + "AND table_type = 'BASE TABLE' ORDER BY table_name")
        var result: [String: Table] = [:]
        for table in list.split(separator: "\n").map(String.init) where table != "devbox_objects" {
            let count = try await database.sql("SELECT COUNT(*) FROM `\(name)`.`\(table)`").trimmingCharacters(in: .whitespacesAndNewlines)
            let checksum = try await database.sql("CHECKSUM TABLE `\(name)`.`\(table)`").split(separator: "\t").last
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            result[table] = Table(rows: Int(count) ?? -1, checksum: checksum)
        }
        return result
    }

    /// Writes the dump in another format: "sql.gz", "sql.bz2", "sql.xz", "sql.zst", "tar",
    /// "tar.gz", "tgz", "tar.bz2", "tar.xz", "tar.zst", "zip". Archives hold the dump cut in
    /// two .sql files at a table boundary, plus a README that is not SQL.
    public func file(_ format: String) async throws -> String {
        let output = directory.file("dump.\(format)")
        let script = """
            import bz2, gzip, io, lzma, subprocess, sys, tarfile, zipfile
            sql, out, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
            data = open(sql, "rb").read()
            cut = data.index(b"-- Table structure for table `t01")
            parts = [("dump/01-first.sql", data[:cut]), ("dump/02-rest.sql", data[cut:]), ("dump/README.txt", b"not sql; ignored\\n")]
            def zstd(raw):
                return subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
            if fmt == "sql.gz": open(out, "wb").write(gzip.compress(data))
            elif fmt == "sql.bz2": open(out, "wb").write(bz2.compress(data))
            elif fmt == "sql.xz": open(out, "wb").write(lzma.compress(data))
            elif fmt == "sql.zst": open(out, "wb").write(zstd(data))
            elif fmt == "zip":
                with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                    for name, body in parts: archive.writestr(name, body)
            else:
                buffer = io.BytesIO()
                with tarfile.open(fileobj=buffer, mode="w") as archive:
                    for name, body in parts:
                        info = tarfile.TarInfo(name); info.size = len(body); archive.addfile(info, io.BytesIO(body))
                raw = buffer.getvalue()
                compress = {"tar": lambda b: b, "tar.gz": gzip.compress, "tgz": gzip.compress, "tar.bz2": bz2.compress,
                            "tar.xz": lzma.compress, "tar.zst": zstd}[fmt]
                open(out, "wb").write(compress(raw))
            """
        let result = try await ChildProcess.run("python3", ["-c", script, sql, output, format], timeout: .seconds(120))
        guard result.succeeded else { throw TestDatabaseError(message: "packing \(format): \(result.errorOutput)") }
        return output
    }

    public func remove() async {
        _ = try? await database.sql("DROP DATABASE IF EXISTS `\(sourceName)`")
        directory.remove()
    }
}
