import CArchive
import Foundation

/// Writes a gzip-compressed tar (POSIX pax) file, entry by entry: what `adminctl cp` of a
/// directory uploads once and every host unpacks with its own `tar`.
public final class ArchiveWriter {
    private let handle: OpaquePointer
    private var closed = false

    /// Creates (or truncates) `path`.
    public init(path: String) throws(ArchiveError) {
        guard let handle = archive_write_new() else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "archive_write_new", message: "out of memory")
        }
        self.handle = handle
        try check(archive_write_set_format_pax_restricted(handle), handle, "archive_write_set_format_pax_restricted")
        try check(archive_write_add_filter_gzip(handle), handle, "archive_write_add_filter_gzip")
        try check(archive_write_open_filename(handle, path), handle, "archive_write_open_filename")
    }

    deinit {
        if !closed { archive_write_close(handle) }
        archive_write_free(handle)
    }

    /// Adds `directory`'s contents (not the directory itself) under relative names: files,
    /// directories (named with a trailing /) and symbolic links with their modes and times;
    /// every entry is owned by root, the extracting side sets owners. Returns the number of entries written.
    @discardableResult
    public func addContents(of directory: String) throws -> Int {
        let base = URL(fileURLWithPath: directory).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "opendir", message: "\(base) cannot be read")
        }
        var names: [String] = []
        while let name = walker.nextObject() as? String { names.append(name) }
        for name in names.sorted() { try add(path: base + "/" + name, as: name) }
        return names.count
    }

    /// Adds one file system object at `path` as the entry `name`.
    public func add(path: String, as name: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "lstat",
                               message: "\(path): \(String(cString: strerror(errno)))")
        }
        guard let entry = archive_entry_new() else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "archive_entry_new", message: "out of memory")
        }
        defer { archive_entry_free(entry) }
        archive_entry_copy_stat(entry, &status)
        archive_entry_set_pathname(entry, name)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        archive_entry_set_uname(entry, "root")
        archive_entry_set_gname(entry, "root")
        let kind = status.st_mode & S_IFMT
        if kind == S_IFLNK {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            archive_entry_set_symlink(entry, target)
        }
        try check(archive_write_header(handle, entry), handle, "archive_write_header")
        guard kind == S_IFREG else { return }
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "open", message: "\(path) cannot be read")
        }
        defer { try? file.close() }
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
            let written = chunk.withUnsafeBytes { archive_write_data(handle, $0.baseAddress, $0.count) }
            if written < 0 { throw libraryError(Int32(written), handle, "archive_write_data") }
        }
    }

    /// Finishes the archive (the gzip trailer): until then the file is incomplete.
    public func close() throws(ArchiveError) {
        guard !closed else { return }
        closed = true
        try check(archive_write_close(handle), handle, "archive_write_close")
    }
}

@available(*, unavailable)
extension ArchiveWriter: Sendable {}
