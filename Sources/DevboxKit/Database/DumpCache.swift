import AWS
import DumpImport
import Foundation
import Host
import Terminal

/// Downloaded production dumps in `~/.cache/devbox/dumps/<bucket>/<key>`: a copy verified once
/// is reused while it is still the newest, an interrupted download's `.partial` is resumed with
/// Range, and a fresh download is written on the way into the import and kept once verified.
struct DumpCache {
    let paths: DevboxPaths
    let console: Console

    /// Where the dump's bytes come from when the cache is used.
    enum Entry {
        /// A copy verified by an earlier sync.
        case verified(String)
        /// A partial file from an earlier run, completed now (resumed with Range).
        case downloaded(String)
        /// Nothing cached: stream it, writing `partial` on the way; `file` once verified.
        case fresh(partial: String, file: String)

        var file: String {
            switch self {
            case .verified(let file), .downloaded(let file), .fresh(_, let file): file
            }
        }
    }

    /// S3 keys may hold `..` segments, which would place the copy outside the cache (and whoever
    /// can write under the dumps prefix could aim sync-db's file, as root on an app instance, anywhere).
    func file(for dump: PublishedDump) throws -> String {
        guard !dump.key.split(separator: "/", omittingEmptySubsequences: false).contains("..") else {
            throw ImportError(.source, "s3://\(dump.bucket)/\(Printable.escaping(dump.key)) is not cached: a '..' in its key would put "
                + "the file outside \(paths.cache)/dumps. Rename the object, or load it with --no-cache.")
        }
        return "\(paths.cache)/dumps/\(dump.bucket)/\(dump.key)"
    }

    /// Holds the dump's cache entry for one run (`flock` on `<file>.lock`, released when the
    /// returned descriptor is closed, or the process ends): a second sync-db of the same dump
    /// would otherwise truncate or append to the partial file the first is writing.
    func hold(_ dump: PublishedDump) throws -> Int32 {
        let file = try file(for: dump)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(file + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ImportError(.source, "cannot open \(file).lock: \(String(cString: strerror(errno))).") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ImportError(.busy, "another sync-db is fetching s3://\(dump.bucket)/\(dump.key) into the cache right now; "
                + "wait for it to finish and run this again.")
        }
        return fd
    }

    /// The dump in the cache: a verified copy of the same object, a partial download resumed,
    /// or nothing yet (then it is streamed and cached while it is imported).
    func prepare(_ dump: PublishedDump, s3: S3) async throws -> Entry {
        let file = try file(for: dump)
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let sha = dump.sha256, (try? String(contentsOfFile: file + ".verified", encoding: .utf8)) == sha, Self.size(file) == dump.size {
            console.note("using the cached copy (\(file))")
            return .verified(file)
        }
        // Never leave an old copy looking verified.
        discard(file)
        let partial = file + ".partial"
        let existing = Self.size(partial) ?? 0
        if let free = DiskSpace.available(at: directory), free < dump.size - existing + (64 << 20) {
            throw ImportError(.source, "not enough free space for the dump in \(directory): \(Format.bytes(free)) free, "
                + "\(Format.bytes(dump.size - existing)) needed. Free space (`devbox db snapshots`, old files in "
                + "\(paths.cache)/dumps) or use --no-cache to stream it.")
        }
        guard existing > 0 else { return .fresh(partial: partial, file: file) }
        try await resume(dump, partial: partial, existing: existing, s3: s3)
        try FileManager.default.moveItem(atPath: partial, toPath: file)
        return .downloaded(file)
    }

    /// Completes a partial download; Ctrl-C stops it at once (the transfer is cancelled with
    /// the task) and keeps what arrived.
    func resume(_ dump: PublishedDump, partial: String, existing: Int64, s3: S3) async throws {
        let bar = console.progress("download", total: dump.size)
        do {
            try await s3.download(bucket: dump.bucket, key: dump.key, to: partial, resumeExisting: true) { progress in
                bar.update(completed: progress.downloaded + (progress.downloadTotal == dump.size ? 0 : existing))
            }
        } catch {
            bar.finish(Task.isCancelled ? "stopped" : "failed")
            if Task.isCancelled { throw CancellationError() }
            throw ImportError(.source, "downloading s3://\(dump.bucket)/\(dump.key) failed: \(error). The partial file is kept; "
                + "run sync-db again to resume.")
        }
        bar.finish()
    }

    /// A verified import: the copy is kept (a fresh download's partial file becomes it).
    func keep(_ entry: Entry, sha256: String) {
        if case .fresh(let partial, let file) = entry { try? FileManager.default.moveItem(atPath: partial, toPath: file) }
        try? sha256.write(toFile: entry.file + ".verified", atomically: true, encoding: .utf8)
    }

    /// After a failed import: a complete but unimported fresh download has nothing to resume;
    /// a copy whose checksum did not match is removed.
    func settle(_ entry: Entry, after error: ImportError, size expected: Int64) {
        if case .fresh(let partial, _) = entry, Self.size(partial) == expected || error.kind == .checksum {
            try? FileManager.default.removeItem(atPath: partial)
        }
        if error.kind == .checksum { discard(entry.file) }
    }

    func discard(_ file: String) {
        try? FileManager.default.removeItem(atPath: file + ".verified")
        try? FileManager.default.removeItem(atPath: file)
    }

    /// A file's size in bytes, nil when it does not exist.
    static func size(_ path: String) -> Int64? { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil }
}
