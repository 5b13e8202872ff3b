import CGit2
import Foundation

/// What `exportTree` wrote.
public struct GitTreeExport: Sendable, Equatable {
    /// The commit exported and its tree's id (two commits with one tree export the same files).
    public var commit: String
    public var tree: String
    public var files: Int
    public var directories: Int
    public var symlinks: Int
    public var bytes: Int64
}

extension Repository {
    /// The commit a deploy ref names, looked up as a branch of `remote` first (the admin's clone
    /// is fetched, its local branches are not maintained), then a tag, then anything
    /// `git rev-parse` takes (a full or abbreviated commit id). Throws `.notFound` when none does.
    public func resolveCommit(_ ref: String, remote: String = "origin") throws(GitError) -> GitCommitSummary {
        let candidates = ["refs/remotes/\(remote)/\(ref)", "refs/tags/\(ref)", ref]
        for candidate in candidates {
            var object: OpaquePointer?
            guard git_revparse_single(&object, handle, candidate) == 0 else { continue }
            defer { git_object_free(object) }
            var commit: OpaquePointer?
            guard git_object_peel(&commit, object, GIT_OBJECT_COMMIT) == 0 else { continue }
            defer { git_commit_free(commit) }
            let subject = git_commit_summary(commit).map { String(cString: $0) } ?? ""
            return GitCommitSummary(id: Self.hex(git_commit_id(commit)), subject: subject)
        }
        throw GitError(.notFound, function: "resolveCommit(\(ref))", code: GIT_ENOTFOUND.rawValue,
                       message: "\(ref) is neither a branch of \(remote), a tag, nor a commit of this repository")
    }

    /// The id of a commit's tree.
    public func treeID(ofCommit spec: String) throws(GitError) -> String {
        let commit = try lookupCommit(spec)
        defer { git_commit_free(commit) }
        return Self.hex(git_commit_tree_id(commit))
    }

    /// Writes the files of `spec`'s tree into `directory` (which must exist and be empty), as
    /// `git archive` would: regular files 0644 or 0755 by their git mode (the umask may narrow
    /// them, the archive normalises them again), symbolic links as links, a submodule as an empty
    /// directory. Works on bare repositories; the index and HEAD are not touched.
    @discardableResult
    public func exportTree(of spec: String, to directory: String, isCancelled: @escaping () -> Bool = { false }) throws -> GitTreeExport {
        let commit = try lookupCommit(spec)
        defer { git_commit_free(commit) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit), "git_commit_tree(\(spec))")
        defer { git_tree_free(tree) }
        let walker = TreeExporter(repository: handle, root: directory, isCancelled: isCancelled)
        let code = withExtendedLifetime(walker) {
            git_tree_walk(tree, GIT_TREEWALK_PRE, { root, entry, payload in
                let walker = Unmanaged<TreeExporter>.fromOpaque(payload!).takeUnretainedValue()
                return walker.visit(root: root.map { String(cString: $0) } ?? "", entry: entry!)
            }, Unmanaged.passUnretained(walker).toOpaque())
        }
        if let failure = walker.failure { throw failure }
        try check(code, "git_tree_walk(\(spec))")
        return GitTreeExport(commit: Self.hex(git_commit_id(commit)), tree: Self.hex(git_commit_tree_id(commit)),
                             files: walker.files, directories: walker.directories, symlinks: walker.symlinks, bytes: walker.bytes)
    }
}

/// The state of one `git_tree_walk`: where files go, what was written, and the first failure
/// (the callback cannot throw, so it stops the walk and keeps the error here).
final class TreeExporter {
    let repository: OpaquePointer
    let root: String
    let isCancelled: () -> Bool
    var failure: (any Error)?
    var files = 0, directories = 0, symlinks = 0
    var bytes: Int64 = 0

    init(repository: OpaquePointer, root: String, isCancelled: @escaping () -> Bool) {
        self.repository = repository
        self.root = root
        self.isCancelled = isCancelled
    }

    func visit(root parent: String, entry: OpaquePointer) -> Int32 {
        do {
            if isCancelled() { throw CancellationError() }
            let name = String(cString: git_tree_entry_name(entry))
            let path = root + "/" + parent + name
            let mode = git_tree_entry_filemode(entry)
            switch mode {
            case GIT_FILEMODE_TREE, GIT_FILEMODE_COMMIT:
                try make(directory: path)
                directories += 1
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                try withBlob(entry) { data, size in
                    try write(data, size, to: path, mode: mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0o755 : 0o644)
                }
                files += 1
            case GIT_FILEMODE_LINK:
                try withBlob(entry) { data, size in
                    let target = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                    guard symlink(target, path) == 0 else { throw posix("symlink(\(path))") }
                }
                symlinks += 1
            default:
                break
            }
            return 0
        } catch {
            failure = error
            return -1
        }
    }

    private func withBlob(_ entry: OpaquePointer, _ body: (UnsafeRawPointer?, Int) throws -> Void) throws {
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, repository, git_tree_entry_id(entry)), "git_blob_lookup")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        bytes += Int64(size)
        try body(git_blob_rawcontent(blob), size)
    }

    private func make(directory path: String) throws {
        guard mkdir(path, 0o755) == 0 else { throw posix("mkdir(\(path))") }
    }

    private func write(_ data: UnsafeRawPointer?, _ size: Int, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw posix("open(\(path))") }
        defer { close(fd) }
        var offset = 0
        while offset < size {
            let count = Foundation.write(fd, data! + offset, size - offset)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw posix("write(\(path))") }
            offset += count
        }
    }

    private func posix(_ function: String) -> GitError {
        GitError(.other, function: function, code: -1, message: String(cString: strerror(errno)))
    }
}

extension Repository {
    /// True when `path` ("composer.json", "config/app.php") is a file in `spec`'s tree.
    public func hasFile(_ path: String, in spec: String) throws(GitError) -> Bool {
        let commit = try lookupCommit(spec)
        defer { git_commit_free(commit) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit), "git_commit_tree(\(spec))")
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, tree, path)
        if code == GIT_ENOTFOUND.rawValue { return false }
        try check(code, "git_tree_entry_bypath(\(path))")
        defer { git_tree_entry_free(entry) }
        return git_tree_entry_type(entry) == GIT_OBJECT_BLOB
    }
}
