/// The pages of a paginated AWS call, fetched one at a time as the loop asks for them:
/// `for try await page in ec2.describeInstances() { ... }`.
public struct Paginator<Page: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Page
    /// Fetches the page after `token` (nil: the first) and returns it with the next token.
    let fetch: @Sendable (String?) async throws -> (Page, String?)

    public init(_ fetch: @escaping @Sendable (String?) async throws -> (Page, String?)) {
        self.fetch = fetch
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetch: @Sendable (String?) async throws -> (Page, String?)
        var token: String?
        var finished = false

        public mutating func next() async throws -> Page? {
            guard !finished else { return nil }
            let (page, next) = try await fetch(token)
            token = next
            finished = next == nil || next?.isEmpty == true
            return page
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetch: fetch) }
}

extension Paginator {
    /// The same pages, each transformed.
    public func map<Other: Sendable>(_ transform: @escaping @Sendable (Page) -> Other) -> Paginator<Other> {
        let fetch = self.fetch
        return Paginator<Other> { token in
            let (page, next) = try await fetch(token)
            return (transform(page), next)
        }
    }

    /// Every element of every page, in order.
    public func all<Item>(_ items: @escaping @Sendable (Page) -> [Item]) async throws -> [Item] {
        var result: [Item] = []
        for try await page in self { result += items(page) }
        return result
    }
}
