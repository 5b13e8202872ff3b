import Foundation

/// Joins a pushing producer (an S3 download delivering chunks) to a pulling consumer
/// (libarchive asking for bytes) across threads, holding at most `capacity` bytes. Unchecked
/// Sendable: every stored property is read and written only while `condition` is locked.
public final class BytePipe: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var offset = 0
    private var buffered = 0
    private var finished = false
    private var failure: (any Error)?
    private var abandoned = false
    let capacity: Int

    public init(capacity: Int = 2 << 20) { self.capacity = capacity }

    /// Blocks while the pipe is full; throws when the reader has gone.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        condition.lock()
        defer { condition.unlock() }
        while buffered >= capacity && !abandoned { condition.wait() }
        if abandoned { throw CancellationError() }
        chunks.append(Array(bytes.bindMemory(to: UInt8.self)))
        buffered += bytes.count
        condition.broadcast()
    }

    /// The producer is done; `error` when it failed.
    public func finish(_ error: (any Error)? = nil) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer stops reading; a blocked writer fails.
    public func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }

    /// Fills `buffer`; 0 at the end; throws the producer's failure.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !finished && !abandoned { condition.wait() }
        if abandoned { throw CancellationError() }
        if chunks.isEmpty {
            if let failure { throw failure }
            return 0
        }
        var written = 0
        while written < buffer.count, let first = chunks.first {
            let take = min(buffer.count - written, first.count - offset)
            first.withUnsafeBytes { source in
                (buffer.baseAddress! + written).copyMemory(from: source.baseAddress! + offset, byteCount: take)
            }
            written += take
            offset += take
            if offset == first.count {
                chunks.removeFirst()
                offset = 0
            }
        }
        buffered -= written
        condition.broadcast()
        return written
    }
}
