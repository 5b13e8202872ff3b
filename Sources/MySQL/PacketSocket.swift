import Foundation
import Synchronization

/// The protocol's framing over a TCP socket: 3-byte little-endian length, 1-byte sequence
/// number, payload; payloads of 16 MiB - 1 or more continue in further packets.
final class PacketSocket {
    static let maxPayload = 0xFF_FFFF

    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0
    private(set) var nextSequence: UInt8 = 0
    private let closed = Atomic<Bool>(false)

    init(host: String, port: Int, timeout: Double) throws(MySQLError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let name = host == "localhost" ? "127.0.0.1" : host
        guard getaddrinfo(name, String(port), &hints, &list) == 0, let first = list else {
            throw MySQLError(kind: .connection, message: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        var connected: Int32 = -1
        while let info = candidate {
            // Close-on-exec from the start: children we start must not hold our database connections.
            let fd = Foundation.socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd >= 0 {
                if Self.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen, timeout: timeout) {
                    connected = fd
                    break
                }
                lastError = errno
                Foundation.close(fd)
            }
            candidate = info.pointee.ai_next
        }
        guard connected >= 0 else {
            throw MySQLError(kind: .connection, message: "cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
        }
        fd = connected
        var one: Int32 = 1
        // Statements go out whole; without this a small one waits on Nagle and delayed ACKs.
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A non-blocking connect bounded by `timeout`, then back to blocking mode.
    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t, timeout: Double) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Foundation.connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else {
            errno = ETIMEDOUT
            return false
        }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        if error != 0 { errno = error }
        return error == 0
    }

    func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        Foundation.close(fd)
    }

    /// Makes a blocked read or write on another thread fail immediately.
    func shutdown() { _ = Foundation.shutdown(fd, Int32(SHUT_RDWR)) }

    deinit { close() }

    // MARK: reading

    func readPacket() throws(MySQLError) -> [UInt8] {
        var payload: [UInt8] = []
        while true {
            let header = try read(4)
            let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16
            nextSequence = header[3] &+ 1
            payload += try read(length)
            if length < Self.maxPayload { return payload }
        }
    }

    private func read(_ count: Int) throws(MySQLError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if start == end {
                let received = buffer.withUnsafeMutableBytes { Foundation.recv(fd, $0.baseAddress, $0.count, 0) }
                if received < 0 && errno == EINTR { continue }
                guard received > 0 else {
                    throw MySQLError(kind: .connection, message: received == 0 ? "the server closed the connection"
                        : "reading from the server failed: \(String(cString: strerror(errno)))")
                }
                start = 0
                end = received
            }
            let take = min(count - result.count, end - start)
            result.append(contentsOf: buffer[start..<start + take])
            start += take
        }
        return result
    }

    // MARK: writing

    func writePacket(_ payload: [UInt8], sequence: UInt8) throws(MySQLError) {
        nextSequence = sequence
        try payload.withUnsafeBufferPointer { buffer throws(MySQLError) in try writeFramed(prefix: nil, buffer) }
    }

    /// A command byte and its argument, framed without copying the argument.
    func writeCommand(_ command: UInt8, _ argument: UnsafeBufferPointer<UInt8>) throws(MySQLError) {
        nextSequence = 0
        try writeFramed(prefix: command, argument)
    }

    private func writeFramed(prefix: UInt8?, _ body: UnsafeBufferPointer<UInt8>) throws(MySQLError) {
        let total = body.count + (prefix == nil ? 0 : 1)
        var offset = 0 // into the logical payload (prefix + body)
        repeat {
            let length = min(Self.maxPayload, total - offset)
            var header: [UInt8] = [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), nextSequence]
            nextSequence &+= 1
            if let prefix, offset == 0 { header.append(prefix) }
            let bodyStart = offset == 0 ? 0 : offset - (prefix == nil ? 0 : 1)
            let bodyLength = length - (offset == 0 && prefix != nil ? 1 : 0)
            try send(header)
            if bodyLength > 0 { try send(UnsafeBufferPointer(rebasing: body[bodyStart..<bodyStart + bodyLength])) }
            offset += length
            if length == Self.maxPayload && offset == total {
                // A payload of an exact multiple of the maximum ends with an empty packet.
                try send([0, 0, 0, nextSequence])
                nextSequence &+= 1
            }
        } while offset < total
    }

    private func send(_ bytes: [UInt8]) throws(MySQLError) {
        try bytes.withUnsafeBufferPointer { buffer throws(MySQLError) in try send(buffer) }
    }

    private func send(_ bytes: UnsafeBufferPointer<UInt8>) throws(MySQLError) {
        var offset = 0
        while offset < bytes.count {
            let sent = Foundation.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else {
                throw MySQLError(kind: .connection, message: "writing to the server failed: \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }
}

/// Reads the protocol's integer and string encodings out of one payload.
struct PacketReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skip(_ count: Int) { position = min(bytes.count, position + count) }

    mutating func byte() -> UInt8 {
        defer { position += 1 }
        return position < bytes.count ? bytes[position] : 0
    }

    mutating func uint16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }
    mutating func uint32() -> UInt32 { UInt32(uint16()) | UInt32(uint16()) << 16 }

    mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + count)
        defer { position = end }
        return Array(bytes[min(position, end)..<end])
    }

    mutating func rest() -> [UInt8] { bytes(bytes.count - position) }

    mutating func nullTerminatedString() -> String {
        let end = bytes[position...].firstIndex(of: 0) ?? bytes.count
        defer { position = min(bytes.count, end + 1) }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    mutating func lengthEncodedInteger() -> UInt64 {
        let first = byte()
        switch first {
        case 0xFC: return UInt64(uint16())
        case 0xFD: return UInt64(uint16()) | UInt64(byte()) << 16
        case 0xFE: return UInt64(uint32()) | UInt64(uint32()) << 32
        default: return UInt64(first)
        }
    }

    mutating func skipLengthEncoded() { skip(Int(lengthEncodedInteger())) }

    mutating func lengthEncodedString() -> String {
        String(decoding: bytes(Int(lengthEncodedInteger())), as: UTF8.self)
    }

    /// A row value: 0xFB is SQL NULL.
    mutating func lengthEncodedNullableString() -> String? {
        if peek() == 0xFB {
            skip(1)
            return nil
        }
        return lengthEncodedString()
    }
}

/// Builds one payload.
struct PacketWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }
    mutating func uint32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(value >> UInt32(shift) & 0xFF)) }
    }
    mutating func zeros(_ count: Int) { bytes += [UInt8](repeating: 0, count: count) }
    mutating func nullTerminated(_ text: String) { bytes += Array(text.utf8) + [0] }
    mutating func lengthEncoded(_ data: [UInt8]) {
        if data.count < 251 {
            bytes.append(UInt8(data.count))
        } else {
            bytes.append(0xFC)
            bytes += [UInt8(data.count & 0xFF), UInt8(data.count >> 8 & 0xFF)]
        }
        bytes += data
    }
}
