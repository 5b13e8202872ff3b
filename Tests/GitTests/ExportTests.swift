import Foundation
import Git
import Host
import Testing
import TestSupport

/// Exporting a commit's tree (what a release is built from), on bare clones made by libgit2,
/// against `git archive` of the same commit.
@Suite struct ExportTests {
    func run(_ command: String) async throws -> String {
        let result = try await ChildProcess.run("/bin/sh", ["-c", command], environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"])
        #expect(result.succeeded, "\(command): \(result.errorOutput)")
        return result.output
    }

    /// An origin whose new_features has nesting, an executable, a symlink and a submodule entry.
    func origin() async throws -> GitOrigin {
        let origin = try await GitOrigin()
        let seed = origin.seed
        try await origin.git(["-C", seed, "checkout", "--quiet", "new_features"])
        try FileManager.default.createDirectory(atPath: seed + "/src/Deep/Er", withIntermediateDirectories: true)
        try "<?php\n".write(toFile: seed + "/src/Deep/Er/Thing.php", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho hi\n".write(toFile: seed + "/run.sh", atomically: true, encoding: .utf8)
        chmod(seed + "/run.sh", 0o755)
        try FileManager.default.createSymbolicLink(atPath: seed + "/current", withDestinationPath: "src/Deep")
        // A submodule is a commit entry in the tree: git archive writes an empty directory for it.
        try await origin.git(["-C", seed, "add", "-A"])
        let head = try await origin.git(["-C", seed, "rev-parse", "HEAD"])
        try await origin.git(["-C", seed, "update-index", "--add", "--cacheinfo", "160000,\(head),vendor/lib"])
        try await origin.git(["-C", seed, "-c", "user.name=Seed", "-c", "user.email=s@example.com", "commit", "--quiet", "-m", "shapes"])
        try await origin.git(["-C", seed, "push", "--quiet", "origin", "new_features"])
        return origin
    }

    @Test func aBareCloneExportsWhatGitArchiveHasForThatCommit() async throws {
        let origin = try await origin()
        defer { origin.directory.remove() }
        let clone = origin.directory.file("admin.git")
        try await Repository.clone(url: origin.bare, to: clone, bare: true)
        let repository = try Repository.open(clone)
        #expect(repository.workingDirectory == nil)
        let commit = try repository.resolveCommit("new_features")
        let expected = try await origin.git(["-C", origin.bare, "rev-parse", "new_features"])
        #expect(commit.id == expected && commit.subject == "shapes")
        let target = origin.directory.file("export")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let export = try repository.exportTree(of: commit.id, to: target)
        let tree = try repository.treeID(ofCommit: commit.id)
        #expect(export.commit == commit.id && export.tree == tree)
        #expect(export.files == 4 && export.symlinks == 1 && export.directories == 5, "\(export)")
        #expect(try repository.hasFile("src/Deep/Er/Thing.php", in: commit.id))
        #expect(try !repository.hasFile("src", in: commit.id))

        let theirs = origin.directory.file("git-archive")
        _ = try await run("mkdir '\(theirs)' && git -C '\(origin.bare)' archive \(commit.id) | tar -xf - -C '\(theirs)'")
        _ = try await run("diff -r --no-dereference '\(target)' '\(theirs)'")
        let listing = { (root: String) in try await self.run("cd '\(root)' && find . -printf '%y %M %p %l\\n' | sort") }
        // Types and execute bits agree (git archive's 0664/0775 are its umask; ours are narrowed by ours).
        let normalise = { (text: String) in text.replacingOccurrences(of: "w-", with: "--").replacingOccurrences(of: "rw", with: "r-") }
        #expect(normalise(try await listing(target)) == normalise(try await listing(theirs)))
        #expect(try await run("ls -l '\(target)/run.sh'").hasPrefix("-rwx"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/current") == "src/Deep")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target + "/vendor/lib").isEmpty)
    }

    @Test func fetchPrunesDeletedBranchesAndRefsResolveInOrder() async throws {
        let origin = try await origin()
        defer { origin.directory.remove() }
        let clone = origin.directory.file("admin.git")
        try await Repository.clone(url: origin.bare, to: clone, bare: true)
        try await origin.git(["-C", origin.bare, "branch", "short-lived", "main"])
        try await origin.git(["-C", origin.bare, "tag", "v1", "main"])
        var repository = try Repository.open(clone)
        try await repository.fetch(prune: true)
        let main = try await origin.git(["-C", origin.bare, "rev-parse", "main"])
        #expect(try repository.resolveCommit("short-lived").id == main)
        #expect(try repository.resolveCommit("v1").id == main)
        let abbreviated = String(try await origin.git(["-C", origin.bare, "rev-parse", "new_features"]).prefix(9))
        #expect(try repository.resolveCommit(abbreviated).subject == "shapes")

        try await origin.git(["-C", origin.bare, "branch", "-D", "short-lived"])
        repository = try Repository.open(clone)
        try await repository.fetch(prune: true)
        let error = #expect(throws: GitError.self) { _ = try repository.resolveCommit("short-lived") }
        #expect(error?.kind == .notFound)
    }

    @Test func anExportIntoAnOccupiedDirectoryFailsOnTheFirstClash() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let clone = origin.directory.file("admin.git")
        try await Repository.clone(url: origin.bare, to: clone, bare: true)
        let target = origin.directory.file("export")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try "mine\n".write(toFile: target + "/README.md", atomically: true, encoding: .utf8)
        let error = #expect(throws: GitError.self) { try Repository.open(clone).exportTree(of: "origin/main", to: target) }
        #expect(error?.function.hasPrefix("open(") == true && error?.message == "File exists")
        #expect(try String(contentsOfFile: target + "/README.md", encoding: .utf8) == "mine\n")
    }
}
