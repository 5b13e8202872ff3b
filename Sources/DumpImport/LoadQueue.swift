import Foundation

/// INSERT statements on their way from the dump reader to the loader connections, bounded by
/// bytes so a dump of any size loads in the same memory. Closing it lets loaders finish what is
/// queued; failing it makes everyone stop.
///
/// Unchecked Sendable: every stored property is private and touched only while `condition` is
/// locked — also `failure`, which the reader thread and the loaders both read. (Synchronization's
/// `Mutex` has no condition variable to wait on, which push and pop need.)
final class LoadQueue: @unchecked Sendable {
    struct Item {
        var table: String
        var statement: [UInt8]
        var rows: Int
        var line: Int
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var head = 0
    private var bytes = 0
    private var closed = false
    private var firstFailure: (any Error)?
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room, then queues `item`; false when the load has failed.
    func push(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while bytes > 0 && bytes + item.statement.count > capacity && firstFailure == nil { condition.wait() }
        guard firstFailure == nil else { return false }
        items.append(item)
        bytes += item.statement.count
        condition.broadcast()
        return true
    }

    /// The next item; nil when the queue is closed and empty, or failed.
    func pop() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed && firstFailure == nil { condition.wait() }
        guard firstFailure == nil, head < items.count else { return nil }
        let item = items[head]
        items[head] = Item(table: "", statement: [], rows: 0, line: 0)
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        bytes -= item.statement.count
        condition.broadcast()
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Records the first failure and wakes everyone.
    func fail(_ error: any Error) {
        condition.lock()
        if firstFailure == nil { firstFailure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// The first failure recorded, read under the lock.
    var failure: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return firstFailure
    }
}
