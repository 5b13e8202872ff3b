import Crypto
import Foundation
import Host

/// The dump's bytes as libarchive pulls them (a file, standard input, or a pipe an S3 stream
/// fills), hashed with SHA-256 on the way so every byte is checked against the published sum.
/// When it goes away, or is abandoned, a producer still writing into its pipe stops at once.
public final class DumpInput: @unchecked Sendable {
    // Unchecked: one thread reads at a time — the loader while it loads, then the importer
    // draining the rest — handed over through `Blocking.run`; `abandon` only touches the pipe,
    // which has its own lock.
    private var hasher = SHA256()
    private let readChunk: (UnsafeMutableRawBufferPointer) throws -> Int
    private let pipe: BytePipe?
    private let descriptor: Int32
    private var total: Int64 = 0
    /// Where the bytes come from, for messages.
    public let name: String
    /// The SHA-256 of every byte, once the end was read.
    public private(set) var sha256: String?
    /// What reading failed with (libarchive reports it only in its own words).
    public private(set) var failure: ImportError?

    /// Opens `path` for reading; "no such file" and the like name the path and the errno.
    public convenience init(file path: String) throws(ImportError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw ImportError(.source, "cannot read \(path): \(reason.prefix(1).lowercased() + reason.dropFirst()).")
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ImportError(.source, "cannot read \(path): it is a directory; give the dump file.")
        }
        self.init(descriptor: fd, owned: true, name: path)
    }

    /// Reads standard input (or another descriptor it does not own).
    public convenience init(descriptor fd: Int32, name: String = "standard input") {
        self.init(descriptor: fd, owned: false, name: name)
    }

    private init(descriptor fd: Int32, owned: Bool, name: String) {
        self.name = name
        descriptor = owned ? fd : -1
        pipe = nil
        readChunk = { buffer in
            while true {
                let count = Foundation.read(fd, buffer.baseAddress, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else {
                    throw ImportError(.source, "reading \(name) failed: \(String(cString: strerror(errno))).")
                }
                return count
            }
        }
    }

    /// Reads what a producer writes into `pipe`.
    public init(pipe: BytePipe, name: String) {
        self.name = name
        self.pipe = pipe
        descriptor = -1
        readChunk = { try pipe.read(into: $0) }
    }

    deinit {
        pipe?.abandon()
        if descriptor >= 0 { close(descriptor) }
    }

    /// Fills `buffer`; 0 at the end (then `sha256` is set).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do {
            return try readCounting(into: buffer)
        } catch let error as ImportError {
            failure = error
            throw error
        }
    }

    private func readCounting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try readChunk(buffer)
        if count > 0 {
            total += Int64(count)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        } else if sha256 == nil {
            guard total > 0 else { throw ImportError(.source, "\(name) is empty: there is no dump to load.") }
            sha256 = Hex.encode(Array(hasher.finalize()))
        }
        return count
    }

    /// Stops the producer (a blocked writer fails) and makes later reads fail.
    public func abandon() { pipe?.abandon() }

    /// Reads whatever the archive reader left unread (a tar's padding, a zip's directory) and
    /// returns the SHA-256 of every byte.
    public func drain() throws -> String {
        if let sha256 { return sha256 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
        return sha256 ?? ""
    }
}
