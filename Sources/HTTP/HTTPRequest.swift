/// An HTTP method; any token is allowed, the common ones are spelled out.
public struct HTTPMethod: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }

    public static let get: HTTPMethod = "GET"
    public static let head: HTTPMethod = "HEAD"
    public static let put: HTTPMethod = "PUT"
    public static let post: HTTPMethod = "POST"
    public static let delete: HTTPMethod = "DELETE"
    public static let patch: HTTPMethod = "PATCH"
}

/// Time limits of one request. A nil limit means none.
public struct HTTPTimeouts: Sendable, Equatable {
    /// Limit for establishing the connection (TCP and TLS).
    public var connect: Duration?
    /// Limit for the whole transfer, connection included.
    public var total: Duration?
    /// Abort when the rate stays below `lowSpeedBytesPerSecond` for `lowSpeedWindow`.
    public var lowSpeedBytesPerSecond: Int?
    public var lowSpeedWindow: Duration?

    public init(connect: Duration? = .seconds(10), total: Duration? = nil,
                lowSpeedBytesPerSecond: Int? = 1, lowSpeedWindow: Duration? = .seconds(60)) {
        self.connect = connect
        self.total = total
        self.lowSpeedBytesPerSecond = lowSpeedBytesPerSecond
        self.lowSpeedWindow = lowSpeedWindow
    }

    /// Ten seconds to connect, and a transfer that stalls for a minute is abandoned.
    public static let standard = HTTPTimeouts()
}

/// One HTTP request: what to send and how to behave on the wire.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: RequestBody
    public var timeouts: HTTPTimeouts
    /// How many redirects to follow; 0 returns the 3xx response itself.
    public var maxRedirects: Int
    /// PEM file of CA certificates to trust instead of the system's bundle.
    public var caBundlePath: String?
    /// Send the request over this Unix socket instead of TCP (the Docker engine API, for one).
    public var unixSocketPath: String?

    public init(method: HTTPMethod = .get, url: String, headers: HTTPHeaders = [:], body: RequestBody = .empty,
                timeouts: HTTPTimeouts = .standard, maxRedirects: Int = 0, caBundlePath: String? = nil,
                unixSocketPath: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
        self.maxRedirects = maxRedirects
        self.caBundlePath = caBundlePath
        self.unixSocketPath = unixSocketPath
    }
}

/// Where a request body comes from. Files and streams are read as the transfer goes, never whole.
public enum RequestBody: Sendable {
    case empty
    case bytes([UInt8])
    /// `length` bytes of the file at `path` starting at `offset` (to its end when `length` is nil).
    case file(path: String, offset: Int64 = 0, length: Int64? = nil)
    /// Pull-based stream: the closure fills the buffer and returns how many bytes it wrote, 0 at the end.
    /// With an unknown `length` the body goes out chunked. A stream cannot be replayed.
    case stream(length: Int64?, BodyReader)

    public typealias BodyReader = @Sendable (UnsafeMutableRawBufferPointer) throws -> Int

    public static func string(_ text: String) -> RequestBody { .bytes(Array(text.utf8)) }
}

/// Where a response body goes. Bodies of non-2xx responses always go to memory instead (up to
/// 64 KiB), so an error page never overwrites a file and can be shown in the error.
public enum ResponseSink: Sendable {
    /// Keep the body in `HTTPResponse.body`; more than `limit` bytes fails the request.
    case memory(limit: Int = 64 << 20)
    /// Write the body to a file. `append` keeps existing bytes (for resumed downloads).
    case file(path: String, append: Bool = false)
    /// Hand each chunk to a closure as it arrives; throwing aborts the transfer.
    case stream(@Sendable (UnsafeRawBufferPointer) throws -> Void)
    case discard

    public static var memory: ResponseSink { .memory() }
}

/// How far a transfer has come; totals are nil while unknown.
public struct TransferProgress: Sendable, Equatable {
    public var downloaded: Int64
    public var downloadTotal: Int64?
    public var uploaded: Int64
    public var uploadTotal: Int64?

    public init(downloaded: Int64, downloadTotal: Int64?, uploaded: Int64, uploadTotal: Int64?) {
        self.downloaded = downloaded
        self.downloadTotal = downloadTotal
        self.uploaded = uploaded
        self.uploadTotal = uploadTotal
    }
}

public typealias ProgressHandler = @Sendable (TransferProgress) -> Void
