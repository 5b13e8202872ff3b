import Archive
import Foundation
import Host
import Testing
import TestSupport

/// The fixtures, made once per test process by Fixtures/make_archives.py.
final class Fixtures: Sendable {
    let directory: String
    let sqlLength: Int
    let secondLength: Int

    static let shared: Fixtures = {
        let directory = try! TemporaryDirectory("archive-fixtures").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/make_archives.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, directory]
        let output = Pipe()
        process.standardOutput = output
        try! ChildProcess.spawn(process)  // Process.run must not race other spawns (see ChildProcess.spawn)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let sizes = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        return Fixtures(directory: directory, sqlLength: sizes[0], secondLength: sizes[1])
    }()

    init(directory: String, sqlLength: Int, secondLength: Int) {
        self.directory = directory
        self.sqlLength = sqlLength
        self.secondLength = secondLength
    }

    func path(_ name: String) -> String { directory + "/" + name }
}

/// Every entry's path and full content, read in small pieces.
func readAll(_ reader: ArchiveReader) throws -> [(ArchiveEntry, [UInt8])] {
    var result: [(ArchiveEntry, [UInt8])] = []
    var buffer = [UInt8](repeating: 0, count: 7919)
    while let entry = try reader.nextEntry() {
        var content: [UInt8] = []
        while true {
            let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if count == 0 { break }
            content += buffer[0..<count]
        }
        result.append((entry, content))
    }
    return result
}

@Suite struct ArchiveReaderTests {
    let fixtures = Fixtures.shared

    @Test(arguments: [("dump.sql", [String]()), ("dump.sql.gz", ["gzip"]), ("dump.sql.bz2", ["bzip2"]),
                      ("dump.sql.xz", ["xz"]), ("dump.sql.zst", ["zstd"])])
    func loneFilesInEveryCompression(name: String, filters: [String]) throws {
        let reader = try ArchiveReader(path: fixtures.path(name))
        let entries = try readAll(reader)
        #expect(entries.count == 1)
        #expect(entries.first?.1.count == fixtures.sqlLength)
        #expect(entries.first.map { String(decoding: $0.1.prefix(33), as: UTF8.self) } == "INSERT INTO `users` VALUES (0,'us")
        #expect(reader.isRaw)
        #expect(reader.filterNames == filters)
    }

    @Test(arguments: ["bundle.tar.gz", "bundle.tgz", "bundle.tar.bz2", "bundle.tar.xz", "bundle.tar.zst", "bundle.zip", "bundle.tar"])
    func archivesHoldingSeveralDumps(name: String) throws {
        let entries = try readAll(try ArchiveReader(path: fixtures.path(name)))
        let files = entries.filter { $0.0.isFile }
        #expect(files.map(\.0.path) == ["dump/01-users.sql", "dump/02-orders.sql"])
        #expect(files.map(\.1.count) == [fixtures.sqlLength, fixtures.secondLength])
        #expect(files.first?.0.size == Int64(fixtures.sqlLength))
    }

    @Test func streamingFromAPullClosure() throws {
        let handle = try #require(FileHandle(forReadingAtPath: fixtures.path("bundle.tar.zst")))
        let reader = try ArchiveReader { buffer in
            let data = try handle.read(upToCount: min(buffer.count, 1000)) ?? Data()  // small, uneven pieces
            data.copyBytes(to: buffer)
            return data.count
        }
        let files = try readAll(reader).filter { $0.0.isFile }
        #expect(files.map(\.1.count) == [fixtures.sqlLength, fixtures.secondLength])
        #expect(reader.bytesProduced == Int64(fixtures.sqlLength + fixtures.secondLength))
    }

    @Test func failingSourceSurfacesItsOwnError() throws {
        struct Broken: Error {}
        var calls = 0
        #expect(throws: (any Error).self) {
            let reader = try ArchiveReader { buffer in
                calls += 1
                if calls > 2 { throw Broken() }
                return try FileHandle(forReadingAtPath: fixtures.path("dump.sql.gz"))!.read(upToCount: 100)!
                    .withUnsafeBytes { source in buffer.copyMemory(from: source); return source.count }
            }
            _ = try readAll(reader)
        }
    }

    @Test func truncatedDataIsAnErrorWithLibarchivesWords() throws {
        let error = #expect(throws: ArchiveError.self) { try readAll(try ArchiveReader(path: fixtures.path("truncated.sql.gz"))) }
        #expect(error?.description.contains("libarchive error") == true)
    }

    @Test(arguments: [("traversal.tar", "../../evil.sql"), ("absolute.tar", "/etc/evil.sql")])
    func unsafePathsAreRefused(name: String, path: String) throws {
        let reader = try ArchiveReader(path: fixtures.path(name))
        let error = #expect(throws: ArchiveError.self) { try reader.nextEntry() }
        #expect(error?.kind == .unsafePath(path))
    }

    @Test func decompressionBombsAndSizeLimitsStopReading() throws {
        let bomb = #expect(throws: ArchiveError.self) {
            try readAll(try ArchiveReader(path: fixtures.path("bomb.sql.gz"),
                                          limits: ArchiveLimits(maxRatio: 100, ratioGrace: 8 << 20)))
        }
        #expect(bomb?.kind == .ratio(limit: 100))
        #expect(bomb?.description.hasPrefix("The archive expands more than 100× its size") == true)
        let large = #expect(throws: ArchiveError.self) {
            try readAll(try ArchiveReader(path: fixtures.path("dump.sql.gz"), limits: ArchiveLimits(maxBytes: 1000)))
        }
        #expect(large?.kind == .tooLarge(limit: 1000))
    }

    @Test func missingFileIsClear() {
        let error = #expect(throws: ArchiveError.self) { try ArchiveReader(path: "/nonexistent/dump.sql.gz") }
        #expect(error?.description.contains("/nonexistent/dump.sql.gz") == true)
    }
}
