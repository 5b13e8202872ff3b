import Foundation

/// INSERT statements on their way from the dump reader to the loader connections, bounded by
/// bytes so a dump of any size loads in the same memory. Closing it lets loaders finish what is
/// queued; failing it makes everyone stop.
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
    private(set) var failure: (any Error)?
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room, then queues `item`; false when the load has failed.
    func push(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while bytes > 0 && bytes + item.statement.count > capacity && failure == nil { condition.wait() }
        guard failure == nil else { return false }
        items.append(item)
        bytes += item.statement.count
        condition.broadcast()
        return true
    }

    /// The next item; nil when the queue is closed and empty, or failed.
    func pop() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed && failure == nil { condition.wait() }
        guard failure == nil, head < items.count else { return nil }
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
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    var hasFailed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return failure != nil
    }
}
