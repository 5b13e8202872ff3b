/// Timing and size of one transfer, as libcurl measured it.
public struct HTTPMetrics: Sendable, Equatable {
    /// Time from the start until the name was resolved, connected, TLS done, first byte, end.
    public var nameLookup: Duration = .zero
    public var connect: Duration = .zero
    public var tlsHandshake: Duration = .zero
    public var firstByte: Duration = .zero
    public var total: Duration = .zero
    public var bytesDownloaded: Int64 = 0
    public var bytesUploaded: Int64 = 0
    /// True when the request went over a connection kept alive from an earlier one.
    public var reusedConnection = false
    public var redirects = 0

    public init() {}

    public var downloadBytesPerSecond: Double {
        let seconds = total.seconds
        return seconds > 0 ? Double(bytesDownloaded) / seconds : 0
    }
}

/// A response: status, headers, and the body when it went to memory.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The body for `.memory` sinks, and the (capped) body of any non-2xx response.
    public var body: [UInt8]
    /// The URL that answered, after redirects (credentials removed).
    public var url: String
    public var metrics: HTTPMetrics

    public init(status: Int, headers: HTTPHeaders, body: [UInt8], url: String, metrics: HTTPMetrics) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.metrics = metrics
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Throws `HTTPError` with the body's first lines unless the status is 2xx.
    @discardableResult
    public func ensureSuccess(method: HTTPMethod) throws -> HTTPResponse {
        guard isSuccess else {
            throw HTTPError(kind: .status(status), method: method, url: url, detail: nil, responseBody: body)
        }
        return self
    }
}
