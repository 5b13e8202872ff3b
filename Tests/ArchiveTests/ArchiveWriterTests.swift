import Archive
import Foundation
import Host
import Testing
import TestSupport

/// The tar.gz `adminctl cp` makes of a directory (modes kept): read back by our reader and by GNU
/// tar, the tool every host unpacks it with.
@Suite struct ArchiveWriterTests {
    @Test func aDirectoryRoundTripsWithModesAndLinksUnderRelativeNames() async throws {
        let scratch = try TemporaryDirectory("archive-writer")
        defer { scratch.remove() }
        let tree = scratch.file("tree")
        try FileManager.default.createDirectory(atPath: tree + "/bin/empty", withIntermediateDirectories: true)
        try "#!/bin/sh\necho tool\n".write(toFile: tree + "/bin/tool", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: tree + "/bin/tool")
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(big).write(to: URL(fileURLWithPath: tree + "/data.bin"))
        try FileManager.default.createSymbolicLink(atPath: tree + "/current", withDestinationPath: "bin/tool")

        let archive = scratch.file("tree.tar.gz")
        let summary = try DeterministicTarball.write(tree, to: archive, modes: .kept)
        #expect(summary.files == 2 && summary.directories == 2 && summary.symlinks == 1)

        let reader = try ArchiveReader(path: archive)
        var entries: [ArchiveEntry] = []
        var data: [UInt8] = []
        while let entry = try reader.nextEntry() {
            entries.append(entry)
            if entry.path == "data.bin" {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while case let count = try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }), count > 0 {
                    data += buffer[0..<count]
                }
            }
        }
        #expect(entries.map(\.path) == ["bin", "bin/empty", "bin/tool", "current", "data.bin"]
                || entries.map(\.path) == ["bin/", "bin/empty/", "bin/tool", "current", "data.bin"], "\(entries.map(\.path))")
        #expect(entries.first { $0.path == "current" }?.isSymlink == true)
        #expect(entries.first { $0.path.hasPrefix("bin/empty") }?.isDirectory == true)
        #expect(data == big)

        let listing = try await ChildProcess.run("/usr/bin/tar", ["-tvzf", archive])
        #expect(listing.status == 0, "\(listing.errorOutput)")
        #expect(listing.output.contains("-rwxr-x--- root/root") && listing.output.contains("current -> bin/tool"), "\(listing.output)")
        let unpacked = scratch.file("unpacked")
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        #expect(try await ChildProcess.run("/usr/bin/tar", ["-xzf", archive, "-C", unpacked]).status == 0)
        #expect(try String(contentsOfFile: unpacked + "/bin/tool", encoding: .utf8) == "#!/bin/sh\necho tool\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: unpacked + "/data.bin")) == Data(big))
    }

    @Test func aDirectoryThatCannotBeReadIsAnErrorNamingIt() throws {
        let scratch = try TemporaryDirectory("archive-writer")
        defer { scratch.remove() }
        #expect(throws: ArchiveError.self) { try DeterministicTarball.write(scratch.file("missing"), to: scratch.file("out.tar.gz")) }
        #expect(throws: ArchiveError.self) { try ArchiveWriter(path: scratch.file("no/such/dir/out.tar.gz")) }
    }
}
