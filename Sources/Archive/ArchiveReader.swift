import CArchive

/// A libarchive call failed, or an archive broke one of our safety rules.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// libarchive reported an error (corrupt or truncated data, unknown format, I/O).
        case library(code: Int32)
        /// An entry's path is absolute or climbs out with "..".
        case unsafePath(String)
        /// More output than `ArchiveLimits.maxBytes`.
        case tooLarge(limit: Int64)
        /// Output grew more than `ArchiveLimits.maxRatio` times the input: a decompression bomb.
        case ratio(limit: Double)
    }

    public var kind: Kind
    public var function: String
    public var message: String

    public var description: String {
        switch kind {
        case .library(let code): "\(function) failed: \(message) (libarchive error \(code))"
        case .unsafePath(let path): "The archive holds an unsafe path \"\(path)\" (absolute or with \"..\"); refusing it."
        case .tooLarge(let limit): "The archive expands to more than \(limit) bytes; refusing it. \(message)"
        case .ratio(let limit): "The archive expands more than \(Int(limit))× its size, like a decompression bomb; refusing it. \(message)"
        }
    }
}

/// Turns a libarchive return code into an `ArchiveError` with `archive_error_string`. Warnings
/// pass (the call did its job); where a warning means the data cannot be trusted, callers test
/// the code themselves and throw `libraryError`.
@discardableResult
func check(_ code: Int32, _ archive: OpaquePointer?, _ function: String) throws(ArchiveError) -> Int32 {
    guard code < ARCHIVE_WARN else { return code }
    throw libraryError(code, archive, function)
}

/// The error for `code`, in libarchive's own words.
func libraryError(_ code: Int32, _ archive: OpaquePointer?, _ function: String) -> ArchiveError {
    let message = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
    return ArchiveError(kind: .library(code: code), function: function, message: message)
}

/// Limits against hostile input, checked as data is read.
public struct ArchiveLimits: Sendable {
    public var maxBytes: Int64
    public var maxRatio: Double
    /// The ratio is only judged after this much output (small files compress absurdly well).
    public var ratioGrace: Int64

    public init(maxBytes: Int64 = 1 << 40, maxRatio: Double = 200, ratioGrace: Int64 = 64 << 20) {
        self.maxBytes = maxBytes
        self.maxRatio = maxRatio
        self.ratioGrace = ratioGrace
    }
}

/// One member of an archive. A lone compressed file (`dump.sql.gz`) reads as one entry.
public struct ArchiveEntry: Sendable, Equatable {
    public var path: String
    public var size: Int64?
    public var isFile: Bool
    public var isDirectory: Bool
    public var isSymlink: Bool
}

/// Reads any format and filter libarchive knows (tar, zip, gzip, bzip2, xz, zstd, plain) as a
/// stream, from a file or from a pull closure, without writing anything to disk.
public final class ArchiveReader {
    let handle: OpaquePointer
    private let source: PullSource?
    private let limits: ArchiveLimits
    private var produced: Int64 = 0

    /// Reads the archive in the file at `path`.
    public init(path: String, limits: ArchiveLimits = ArchiveLimits()) throws(ArchiveError) {
        handle = try Self.newReader()
        source = nil
        self.limits = limits
        // Once every property is set, a throwing init runs deinit, which frees the handle.
        try check(archive_read_open_filename(handle, path, 1 << 20), handle, "archive_read_open_filename(\(path))")
    }

    /// Reads the archive from `read`, which fills the buffer and returns the byte count (0 at the end).
    public init(limits: ArchiveLimits = ArchiveLimits(),
                read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws(ArchiveError) {
        handle = try Self.newReader()
        let source = PullSource(read)
        self.source = source
        self.limits = limits
        let context = Unmanaged.passUnretained(source).toOpaque()
        try check(archive_read_open(handle, context, nil, pullCallback, nil), handle, "archive_read_open")
    }

    deinit { archive_read_free(handle) }

    private static func newReader() throws(ArchiveError) -> OpaquePointer {
        guard let handle = archive_read_new() else {
            throw ArchiveError(kind: .library(code: ARCHIVE_FATAL), function: "archive_read_new", message: "out of memory")
        }
        do {
            // ARCHIVE_WARN from filter_all only says some filters will run an external program.
            try check(archive_read_support_filter_all(handle), handle, "archive_read_support_filter_all")
            try check(archive_read_support_format_all(handle), handle, "archive_read_support_format_all")
            // A lone compressed (or plain) file has no container format: read it as one entry.
            try check(archive_read_support_format_raw(handle), handle, "archive_read_support_format_raw")
        } catch {
            archive_read_free(handle)
            throw error
        }
        return handle
    }

    /// The next entry, or nil after the last. Entries with unsafe paths are refused.
    public func nextEntry() throws -> ArchiveEntry? {
        var entry: OpaquePointer?
        let code = archive_read_next_header(handle, &entry)
        if code == ARCHIVE_EOF { return nil }
        try rethrowSourceFailure()
        // ARCHIVE_RETRY is a damaged header ("Damaged tar archive", no entry): calling again would
        // skip to the next good header and silently lose this member, so it is an error. A
        // warning still comes with a valid entry (an unconvertible name, an odd pax field).
        if code == ARCHIVE_RETRY { throw libraryError(code, handle, "archive_read_next_header") }
        try check(code, handle, "archive_read_next_header")
        guard let entry else { throw libraryError(ARCHIVE_FATAL, handle, "archive_read_next_header") }
        let path = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let type = archive_entry_filetype(entry)
        if path.hasPrefix("/") || path.split(separator: "/").contains("..") {
            throw ArchiveError(kind: .unsafePath(path), function: "archive_read_next_header", message: "")
        }
        return ArchiveEntry(path: path, size: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : nil,
                            isFile: type == Self.regularFile, isDirectory: type == Self.directory,
                            isSymlink: type == Self.symlink)
    }

    /// How often `read` repeats a call libarchive answered with ARCHIVE_RETRY.
    static let maxRetries = 3

    // AE_IFREG and friends are cast macros Swift cannot import.
    static let regularFile: UInt32 = 0o100000
    static let directory: UInt32 = 0o040000
    static let symlink: UInt32 = 0o120000

    /// Reads the current entry's data; 0 at its end. Never returns a negative count.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var count = archive_read_data(handle, buffer.baseAddress, buffer.count)
        var retries = 0
        while count == la_ssize_t(ARCHIVE_RETRY), retries < Self.maxRetries {
            retries += 1
            count = archive_read_data(handle, buffer.baseAddress, buffer.count)
        }
        try rethrowSourceFailure()
        // A negative count is a status, never bytes. ARCHIVE_WARN here means the data cannot be
        // trusted (a zip member whose CRC or size does not match), and libarchive drops the count
        // of what it copied into `buffer` with it: so every negative answer is an error.
        if count < 0 { throw libraryError(Int32(count), handle, "archive_read_data") }
        produced += Int64(count)
        if produced > limits.maxBytes {
            throw ArchiveError(kind: .tooLarge(limit: limits.maxBytes), function: "archive_read_data", message: "")
        }
        let consumed = archive_filter_bytes(handle, -1)
        if produced > limits.ratioGrace, consumed > 0, Double(produced) / Double(consumed) > limits.maxRatio {
            throw ArchiveError(kind: .ratio(limit: limits.maxRatio), function: "archive_read_data",
                               message: "\(produced) bytes out of \(consumed).")
        }
        return count
    }

    /// "GNU tar format", "ZIP 2.0 (deflation)", "raw", ...
    public var formatName: String { archive_format_name(handle).map { String(cString: $0) } ?? "" }

    /// Filters from the outermost in ("gzip", "zstd", ...), without the final "none".
    public var filterNames: [String] {
        (0..<archive_filter_count(handle)).compactMap { archive_filter_name(handle, $0).map { String(cString: $0) } }
            .filter { $0 != "none" }
    }

    /// True for a lone compressed file rather than a container.
    public var isRaw: Bool { formatName == "raw" }

    /// Bytes read from the input so far (compressed).
    public var bytesConsumed: Int64 { archive_filter_bytes(handle, -1) }

    /// Bytes produced so far (uncompressed).
    public var bytesProduced: Int64 { produced }

    private func rethrowSourceFailure() throws {
        if let failure = source?.failure { throw failure }
    }
}

@available(*, unavailable)
extension ArchiveReader: Sendable {}

/// The pull closure and its buffer, reached from libarchive's read callback.
final class PullSource {
    let read: (UnsafeMutableRawBufferPointer) throws -> Int
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    var failure: (any Error)?

    init(_ read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) { self.read = read }
    deinit { buffer.deallocate() }
}

private func pullCallback(_ archive: OpaquePointer?, _ context: UnsafeMutableRawPointer?,
                          _ output: UnsafeMutablePointer<UnsafeRawPointer?>?) -> la_ssize_t {
    let source = Unmanaged<PullSource>.fromOpaque(context!).takeUnretainedValue()
    do {
        let count = try source.read(source.buffer)
        output?.pointee = UnsafeRawPointer(source.buffer.baseAddress)
        return count
    } catch {
        source.failure = error
        archive_set_error_message(archive, "the input failed: \(error)")
        return -1
    }
}

private func archive_set_error_message(_ archive: OpaquePointer?, _ message: String) {
    archive_shim_set_error(archive, message)
}
