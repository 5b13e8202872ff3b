#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a `RequestBody` for libcurl's read callback: files by `pread` from an offset, never whole.
struct BodySource {
    private let body: RequestBody
    private var position: Int64 = 0
    private var fileDescriptor: Int32 = -1
    private var fileStart: Int64 = 0
    private(set) var length: Int64?

    init(_ body: RequestBody) {
        self.body = body
        switch body {
        case .empty: length = 0
        case .bytes(let bytes): length = Int64(bytes.count)
        case .file(_, _, let length): self.length = length
        case .stream(let length, _): self.length = length
        }
    }

    mutating func open() throws {
        guard case .file(let path, let offset, let requested) = body, fileDescriptor < 0 else { return }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BodySourceError(path: path, operation: "open", code: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw BodySourceError(path: path, operation: "stat", code: code)
        }
        let available = max(0, Int64(info.st_size) - offset)
        fileDescriptor = fd
        fileStart = offset
        length = requested.map { min($0, available) } ?? available
    }

    mutating func close() {
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
        fileDescriptor = -1
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch body {
        case .empty:
            return 0
        case .bytes(let bytes):
            let count = min(buffer.count, bytes.count - Int(position))
            guard count > 0 else { return 0 }
            bytes.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(position)..<Int(position) + count]))
            }
            position += Int64(count)
            return count
        case .file(let path, _, _):
            let remaining = (length ?? 0) - position
            let wanted = Int(min(Int64(buffer.count), remaining))
            guard wanted > 0 else { return 0 }
            while true {
                let got = pread(fileDescriptor, buffer.baseAddress, wanted, off_t(fileStart + position))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw BodySourceError(path: path, operation: "read", code: errno)
                }
                if got == 0 { throw BodySourceError(path: path, operation: "read (file shrank)", code: 0) }
                position += Int64(got)
                return got
            }
        case .stream(_, let reader):
            let count = try reader(buffer)
            position += Int64(count)
            return count
        }
    }

    /// Rewinds for a resend (redirect, auth retry). Streams cannot be replayed.
    mutating func seek(to offset: Int64) -> Bool {
        switch body {
        case .stream: return offset == position
        default:
            guard offset >= 0, offset <= (length ?? 0) else { return false }
            position = offset
            return true
        }
    }
}

/// Reading a request body's file failed.
struct BodySourceError: Error, CustomStringConvertible {
    var path: String
    var operation: String
    var code: Int32

    var description: String {
        code == 0 ? "\(operation) \(path)" : "\(operation) \(path): \(String(cString: strerror(code)))"
    }
}
