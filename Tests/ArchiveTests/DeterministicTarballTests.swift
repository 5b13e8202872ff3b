import Archive
import Foundation
import Host
import Testing
import TestSupport

/// The release tarball: one tree, one sequence of bytes, whatever the file system says about it
/// besides its names, contents, types and execute bits.
@Suite struct DeterministicTarballTests {
    /// A small tree with nesting, an executable, a symlink, an empty directory and a non-ASCII name.
    static func makeTree(at root: String, fileMode: mode_t, directoryMode: mode_t, mtime: Int) throws {
        let manager = FileManager.default
        for directory in ["public", "src/Controller", "var/empty", "bin"] {
            try manager.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        let files = ["public/index.php": "<?php echo 'hi';\n", "src/Controller/Home.php": "<?php // home\n",
                     "bin/console": "#!/usr/bin/env php\n", "README.md": "# app\n", "é-unicode.txt": "ünïcode\n",
                     "b.txt": "b\n", "a b.txt": String(repeating: "x", count: 300_000)]
        for (path, content) in files { try content.write(toFile: root + "/" + path, atomically: false, encoding: .utf8) }
        try manager.createSymbolicLink(atPath: root + "/public/link.php", withDestinationPath: "index.php")
        for (path, _) in files {
            chmod(root + "/" + path, path == "bin/console" ? fileMode | 0o100 : fileMode)
        }
        // Children first, so a narrow directory mode cannot lock us out of what is below it.
        for directory in ["src/Controller", "src", "var/empty", "var", "public", "bin"] { chmod(root + "/" + directory, directoryMode) }
        for path in Array(files.keys) + ["public", "src", "bin", "var", "var/empty", "src/Controller"] {
            var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
            utimensat(AT_FDCWD, root + "/" + path, &times, 0)
        }
    }

    /// Sets `user.origin` on `path` where the file system takes user attributes (tmpfs does since Linux 6.6).
    static func setAttribute(_ path: String) async throws {
        _ = try await ChildProcess.run("python3", ["-c", "import os, sys\ntry: os.setxattr(sys.argv[1], 'user.origin', b'checkout')\nexcept OSError: pass", path],
                                       environment: ["PATH": "/usr/bin:/bin"])
    }

    func listing(_ archive: String) async throws -> [String] {
        let result = try await ChildProcess.run("tar", ["--numeric-owner", "--full-time", "-tvzf", archive],
                                                environment: ["PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C"])
        #expect(result.succeeded, "\(result.errorOutput)")
        return result.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
    }

    @Test func theSameTreeGivesTheSameBytesWhateverItsModesTimesAndOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // What a 022 umask and a 077 umask make of one checkout, hours apart.
        try Self.makeTree(at: directory.file("one"), fileMode: 0o644, directoryMode: 0o755, mtime: 1_700_000_000)
        try Self.makeTree(at: directory.file("two"), fileMode: 0o600, directoryMode: 0o700, mtime: 1_800_000_000)
        // A user extended attribute on one side only (where the file system takes them).
        try await Self.setAttribute(directory.file("two/README.md"))
        let first = try DeterministicTarball.write(directory.file("one"), to: directory.file("one.tar.gz"))
        // Another second, so a timestamp anywhere in the output would show.
        try await Task.sleep(for: .milliseconds(1100))
        let second = try DeterministicTarball.write(directory.file("two"), to: directory.file("two.tar.gz"))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.file("one.tar.gz"))))
        #expect(bytes == (try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.file("two.tar.gz"))))))
        #expect(first == second)
        #expect(first.files == 7 && first.directories == 6 && first.symlinks == 1)
        // gzip's MTIME field (bytes 4-7) is zero.
        #expect(Array(bytes[0..<3]) == [0x1f, 0x8b, 0x08] && Array(bytes[4..<8]) == [0, 0, 0, 0])

        let lines = try await listing(directory.file("two.tar.gz"))
        // Bytewise order of whole paths: uppercase before lowercase, "b.txt" before "bin/", UTF-8 after ASCII.
        #expect(lines == [
            "-rw-r--r-- 0/0 6 2000-01-01 00:00:00 README.md",
            "-rw-r--r-- 0/0 300000 2000-01-01 00:00:00 a b.txt",
            "-rw-r--r-- 0/0 2 2000-01-01 00:00:00 b.txt",
            "drwxr-xr-x 0/0 0 2000-01-01 00:00:00 bin/",
            "-rwxr-xr-x 0/0 19 2000-01-01 00:00:00 bin/console",
            "drwxr-xr-x 0/0 0 2000-01-01 00:00:00 public/",
            "-rw-r--r-- 0/0 17 2000-01-01 00:00:00 public/index.php",
            "lrwxrwxrwx 0/0 0 2000-01-01 00:00:00 public/link.php -> index.php",
            "drwxr-xr-x 0/0 0 2000-01-01 00:00:00 src/",
            "drwxr-xr-x 0/0 0 2000-01-01 00:00:00 src/Controller/",
            "-rw-r--r-- 0/0 14 2000-01-01 00:00:00 src/Controller/Home.php",
            "drwxr-xr-x 0/0 0 2000-01-01 00:00:00 var/",
            "drwxr-xr-x 0/0 0 2000-01-01 00:00:00 var/empty/",
            "-rw-r--r-- 0/0 10 2000-01-01 00:00:00 \\303\\251-unicode.txt",
        ], "\(lines)")
    }

    @Test func noOwnerNamesTimesOrAttributesOfTheMachineGetIn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.makeTree(at: directory.file("tree"), fileMode: 0o664, directoryMode: 0o775, mtime: 1_750_000_000)
        try await Self.setAttribute(directory.file("tree/README.md"))
        try DeterministicTarball.write(directory.file("tree"), to: directory.file("tree.tar.gz"))
        let reader = try ArchiveReader(path: directory.file("tree.tar.gz"))
        var paths: [String] = []
        while let entry = try reader.nextEntry() { paths.append(entry.path) }
        #expect(reader.formatName.contains("pax") && reader.filterNames == ["gzip"])
        #expect(paths.count == 14 && !paths.contains { $0.hasPrefix("/") || $0.hasPrefix("./") })
        // The uncompressed stream holds no pax keys for times, xattrs or ACLs, and no user names but root.
        let raw = try await ChildProcess.run("/bin/sh", ["-c", "gzip -dc '\(directory.file("tree.tar.gz"))' | strings"],
                                             environment: ["PATH": "/usr/bin:/bin"])
        for marker in ["atime", "ctime", "xattr", "SCHILY", "LIBARCHIVE", "user.origin", NSUserName() == "root" ? "nobody" : NSUserName()] {
            #expect(!raw.output.contains(marker), "\(marker) in the archive")
        }
    }

    @Test func aSocketIsRefusedRatherThanLeftOut() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("tree"), withIntermediateDirectories: true)
        #expect(mkfifo(directory.file("tree/pipe"), 0o644) == 0)
        let error = #expect(throws: ArchiveError.self) {
            try DeterministicTarball.write(directory.file("tree"), to: directory.file("tree.tar.gz"))
        }
        #expect(error?.description.contains("pipe is neither a file, a directory nor a symbolic link") == true)
    }
}
