import Foundation

/// A directory tree as a reproducible `.tar.gz`: the same tree gives the same bytes, whoever
/// builds it, whenever, under whatever umask. Entries are sorted by path (bytewise), every header
/// has the same time, owner (0/0, root/root) and normalised permissions (directories 0755, files
/// 0644, or 0755 when any execute bit is set, links 0777), and nothing else of the file system
/// (times, owners, extended attributes, ACLs, sockets or devices) gets in.
public enum DeterministicTarball {
    /// 2000-01-01T00:00:00Z. A fixed time rather than the commit's, so the bytes depend on the tree
    /// alone (two commits with one tree give one artifact); not 0, which some tools read as unset.
    public static let mtime = 946_684_800

    public struct Summary: Sendable, Equatable {
        public var files: Int
        public var directories: Int
        public var symlinks: Int
        /// Bytes of file content (before compression).
        public var contentBytes: Int64
        /// Size of the archive written.
        public var archiveBytes: Int64
    }

    /// One entry of the tree, as it goes into the archive.
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case file, directory, symlink(String) }
        public var path: String
        public var kind: Kind
        public var mode: UInt32
    }

    /// What the archive says of permissions: `normalized` for releases (the bytes depend on the
    /// tree's content alone), `kept` for copies (`adminctl cp`: a 0600 file stays private).
    public enum Modes: Sendable { case normalized, kept }

    /// Archives what `root` holds (not `root` itself) to `destination`. Paths in the archive are
    /// relative (`public/index.php`), so it unpacks into any directory.
    @discardableResult
    public static func write(_ root: String, to destination: String, stamp: ArchiveWriter.Stamp = .init(mtime: mtime),
                             modes: Modes = .normalized, isCancelled: () -> Bool = { false }) throws -> Summary {
        let entries = try self.entries(root, modes: modes)
        let writer = try ArchiveWriter(path: destination)
        var summary = Summary(files: 0, directories: 0, symlinks: 0, contentBytes: 0, archiveBytes: 0)
        for entry in entries {
            if isCancelled() { throw CancellationError() }
            switch entry.kind {
            case .directory:
                try writer.addDirectory(entry.path, mode: entry.mode, stamp: stamp)
                summary.directories += 1
            case .symlink(let target):
                try writer.addSymlink(entry.path, target: target, stamp: stamp)
                summary.symlinks += 1
            case .file:
                summary.contentBytes += try writer.addFile(entry.path, mode: entry.mode, from: root + "/" + entry.path, stamp: stamp)
                summary.files += 1
            }
        }
        try writer.finish()
        summary.archiveBytes = (try FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int64) ?? 0
        return summary
    }

    /// The entries `write` puts in the archive, in its order. Throws for what a release cannot
    /// hold (sockets, devices, FIFOs) rather than leaving it out unnoticed.
    public static func entries(_ root: String, modes: Modes = .normalized) throws -> [Entry] {
        var result: [Entry] = []
        try walk(root: root, relative: "", modes: modes, into: &result)
        // Bytewise order of the whole path: independent of locale and of readdir's order.
        return result.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    private static func walk(root: String, relative: String, modes: Modes, into result: inout [Entry]) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        guard let stream = opendir(directory) else {
            throw ArchiveError(kind: .library(code: -30), function: "opendir(\(directory))", message: String(cString: strerror(errno)))
        }
        var names: [String] = []
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(stream)
        for name in names {
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(root + "/" + path, &info) == 0 else {
                throw ArchiveError(kind: .library(code: -30), function: "lstat(\(path))", message: String(cString: strerror(errno)))
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                result.append(Entry(path: path, kind: .directory, mode: modes == .kept ? UInt32(info.st_mode & 0o777) : 0o755))
                try walk(root: root, relative: path, modes: modes, into: &result)
            case S_IFREG:
                let normalized: UInt32 = info.st_mode & 0o111 != 0 ? 0o755 : 0o644
                result.append(Entry(path: path, kind: .file, mode: modes == .kept ? UInt32(info.st_mode & 0o777) : normalized))
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlink(root + "/" + path, &buffer, buffer.count - 1)
                guard length >= 0 else {
                    throw ArchiveError(kind: .library(code: -30), function: "readlink(\(path))", message: String(cString: strerror(errno)))
                }
                let target = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                result.append(Entry(path: path, kind: .symlink(target), mode: 0o777))
            default:
                throw ArchiveError(kind: .library(code: -30), function: "DeterministicTarball.entries",
                                   message: "\(path) is neither a file, a directory nor a symbolic link (a socket, FIFO or device); "
                                       + "an archive of a tree cannot hold it")
            }
        }
    }
}
