import CArchive
import Foundation

/// Writes a gzip-compressed tar archive (pax, ustar headers where they suffice) to a file, entry by
/// entry. Only what the caller sets goes into a header: no atime/ctime, no extended attributes,
/// no ACLs, and the gzip header carries no timestamp, so the same calls give the same bytes.
public final class ArchiveWriter {
    let handle: OpaquePointer
    private let entry: OpaquePointer
    private var finished = false
    /// One copy buffer for every file (a fresh one each time cost a 256 KiB memset per file).
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)

    /// Opens `path` for writing (created or truncated). `compressionLevel` is fixed rather than
    /// libarchive's default so that a library upgrade does not change the bytes silently.
    public init(path: String, compressionLevel: Int = 6) throws(ArchiveError) {
        guard let handle = archive_write_new() else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "archive_write_new", message: "out of memory")
        }
        guard let entry = archive_entry_new() else {
            archive_write_free(handle)
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "archive_entry_new", message: "out of memory")
        }
        self.handle = handle
        self.entry = entry
        try check(archive_write_set_format_pax_restricted(handle), handle, "archive_write_set_format_pax_restricted")
        try check(archive_write_add_filter_gzip(handle), handle, "archive_write_add_filter_gzip")
        // "!timestamp": a zero MTIME in the gzip header instead of the time of writing.
        try check(archive_write_set_filter_option(handle, "gzip", "timestamp", nil), handle,
                  "archive_write_set_filter_option(gzip:!timestamp)")
        try check(archive_write_set_filter_option(handle, "gzip", "compression-level", String(compressionLevel)), handle,
                  "archive_write_set_filter_option(gzip:compression-level)")
        // Whole 10 KiB blocks as tar(1) writes them; the last block is padded with zeros.
        try check(archive_write_set_bytes_per_block(handle, 10240), handle, "archive_write_set_bytes_per_block")
        try check(archive_write_open_filename(handle, path), handle, "archive_write_open_filename(\(path))")
    }

    deinit {
        archive_entry_free(entry)
        archive_write_free(handle)
        buffer.deallocate()
    }

    /// What every header shares: owner, group and time are the same for every entry.
    public struct Stamp: Sendable, Equatable {
        public var mtime: Int
        public var uid: Int64
        public var gid: Int64
        public var user: String
        public var group: String

        public init(mtime: Int, uid: Int64 = 0, gid: Int64 = 0, user: String = "root", group: String = "root") {
            self.mtime = mtime
            self.uid = uid
            self.gid = gid
            self.user = user
            self.group = group
        }
    }

    private func header(_ path: String, type: UInt32, mode: UInt32, size: Int64, stamp: Stamp) {
        archive_entry_clear(entry)
        archive_entry_set_pathname_utf8(entry, path)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode_t(mode))
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, time_t(stamp.mtime), 0)
        archive_entry_set_uid(entry, stamp.uid)
        archive_entry_set_gid(entry, stamp.gid)
        archive_entry_set_uname_utf8(entry, stamp.user)
        archive_entry_set_gname_utf8(entry, stamp.group)
    }

    /// Writes the header, names converted under a UTF-8 locale: libarchive turns UTF-8 names
    /// into the locale's charset on the way, and in the "C" locale of a Swift process it cannot,
    /// and crashes (strlen of NULL in libarchive 3.6.2) on any non-ASCII name.
    private func writeHeader(_ path: String) throws(ArchiveError) {
        let code = UTF8Locale.with { archive_write_header(handle, entry) }
        try check(code, handle, "archive_write_header(\(path))")
    }

    /// A directory entry (`path` without a trailing slash).
    public func addDirectory(_ path: String, mode: UInt32, stamp: Stamp) throws(ArchiveError) {
        header(path, type: ArchiveReader.directory, mode: mode, size: 0, stamp: stamp)
        try writeHeader(path)
    }

    /// A symbolic link to `target`.
    public func addSymlink(_ path: String, target: String, stamp: Stamp) throws(ArchiveError) {
        header(path, type: ArchiveReader.symlink, mode: 0o777, size: 0, stamp: stamp)
        archive_entry_set_symlink_utf8(entry, target)
        try writeHeader(path)
    }

    /// A regular file whose bytes are read from `source` (on disk); returns its size. The file
    /// must not change while it is copied: a size that differs from the header's is an error.
    @discardableResult
    public func addFile(_ path: String, mode: UInt32, from source: String, stamp: Stamp) throws -> Int64 {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "open(\(source))",
                               message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "fstat(\(source))", message: String(cString: strerror(errno)))
        }
        let size = Int64(info.st_size)
        header(path, type: ArchiveReader.regularFile, mode: mode, size: size, stamp: stamp)
        try writeHeader(path)
        var copied: Int64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "read(\(source))", message: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            copied += Int64(count)
            guard copied <= size else { break }
            let written = archive_write_data(handle, buffer.baseAddress, count)
            if written < 0 { throw libraryError(Int32(written), handle, "archive_write_data(\(path))") }
        }
        guard copied == size else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "addFile(\(path))",
                               message: "\(source) changed while it was archived (\(size) bytes when it was opened, \(copied) read)")
        }
        return size
    }

    /// Writes the end of the archive and closes the file; without it the archive is incomplete.
    public func finish() throws(ArchiveError) {
        guard !finished else { return }
        finished = true
        let code = UTF8Locale.with { archive_write_close(handle) }
        try check(code, handle, "archive_write_close")
    }
}

/// C.UTF-8 for the calling thread only (`uselocale`), while libarchive converts names.
enum UTF8Locale {
    nonisolated(unsafe) static let handle: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    static func with<T>(_ body: () -> T) -> T {
        guard let handle else { return body() }
        let previous = uselocale(handle)
        defer { uselocale(previous) }
        return body()
    }
}

@available(*, unavailable)
extension ArchiveWriter: Sendable {}
