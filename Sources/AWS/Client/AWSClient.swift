import Foundation
import HTTP
import SigV4

/// Everything a client needs to reach AWS: region, credentials, endpoints, retries.
public struct AWSConfiguration: Sendable {
    public var region: Region
    public var credentials: any CredentialsProvider
    public var environment: [String: String]
    public var shared: SharedConfig
    public var retry: RetryStrategy
    public var http: HTTPClient
    public var timeouts: HTTPTimeouts
    /// Seconds since 1970 for signatures; tests move it to provoke clock-skew errors.
    public var clock: @Sendable () -> Int
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Sends the signed requests that `AWSClient.send` answers in memory; nil uses `http`.
    /// Unit tests put a stand-in here to see every attempt and to fail some.
    public var transport: Transport?

    public typealias Transport = @Sendable (HTTPRequest, ResponseSink, ProgressHandler?) async throws -> HTTPResponse

    public init(region: Region, credentials: any CredentialsProvider, environment: [String: String] = [:],
                shared: SharedConfig = SharedConfig(config: ConfigFile(parsing: ""), credentials: ConfigFile(parsing: "")),
                retry: RetryStrategy? = nil, http: HTTPClient = HTTPClient(userAgent: "nuvola-aws"),
                timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(10), lowSpeedBytesPerSecond: 1,
                                                      lowSpeedWindow: .seconds(60)),
                clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) },
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.region = region
        self.credentials = credentials
        self.environment = environment
        self.shared = shared
        self.retry = retry ?? RetryStrategy(environment: environment)
        self.http = http
        self.timeouts = timeouts
        self.clock = clock
        self.sleep = sleep
    }

    /// The SDKs' resolution: region from the flag, environment, profile or instance metadata;
    /// credentials from `explicit`, else the default chain; endpoints from `AWS_ENDPOINT_URL*`.
    public static func resolve(regionFlag: String? = nil, explicit: Credentials? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               http: HTTPClient = HTTPClient(userAgent: "nuvola-aws")) async throws -> AWSConfiguration {
        let shared = SharedConfig.load(environment: environment)
        var region = Region.resolve(flag: regionFlag, environment: environment, shared: shared)
        if region == nil, environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
            if let name = try? await InstanceMetadata(environment: environment, http: http).region() {
                region = Region(name, source: .instanceMetadata)
            }
        }
        guard let region else {
            throw CredentialsError("No AWS region configured: pass --region, export AWS_REGION, or set region in your profile.")
        }
        let provider: any CredentialsProvider = explicit.map { StaticCredentialsProvider($0) }
            ?? CachedCredentialsProvider(DefaultCredentialsChain(environment: environment, shared: shared,
                                                                 region: region.name, http: http))
        return AWSConfiguration(region: region, credentials: provider, environment: environment, shared: shared, http: http)
    }

    func endpoint(for service: AWSService) -> Endpoint {
        Endpoint.resolve(service, region: region.name, environment: environment, shared: shared)
    }
}

/// Sends signed AWS requests with the standard retry behaviour. Services (`STS`, `S3`, ...) are
/// thin typed layers over `send`. Safe to share between tasks.
public final class AWSClient: Sendable {
    public let configuration: AWSConfiguration

    public init(_ configuration: AWSConfiguration) { self.configuration = configuration }

    public var region: String { configuration.region.name }

    /// Sends `request`, retrying transient failures; returns the 2xx (or 3xx) response or throws
    /// `AWSError` naming the service, operation, code, message and request id.
    public func send(_ request: AWSRequest, into sink: ResponseSink = .memory,
                     progress: ProgressHandler? = nil) async throws -> HTTPResponse {
        var replayable = request.isReplayable
        if case .stream = sink { replayable = false }
        return try await withRetries(request, mayRetry: { _ in replayable }) { signed, _ in
            if let transport = self.configuration.transport { return try await transport(signed, sink, progress) }
            return try await self.configuration.http.send(signed, into: sink, progress: progress)
        }
    }

    /// Downloads the response body of `request` to `path`, resuming with `Range` after dropped
    /// connections and retrying transient AWS errors (continuing the partial file).
    public func download(_ request: AWSRequest, to path: String, resumeExisting: Bool = false,
                         progress: ProgressHandler? = nil) async throws -> HTTPResponse {
        try await withRetries(request, mayRetry: { _ in true }) { signed, attempt in
            try await self.configuration.http.download(signed, to: path, resumeExisting: resumeExisting || attempt > 1,
                                                       progress: progress)
        }
    }

    /// Streams the response body of `request` to `consume`, resuming with `Range` after dropped
    /// connections so every byte is seen once. Not retried once bytes were delivered.
    public func stream(_ request: AWSRequest, progress: ProgressHandler? = nil,
                       into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> HTTPResponse {
        // An HTTP error answer delivered nothing to `consume`; a broken transfer may have.
        try await withRetries(request, mayRetry: { $0.httpStatus > 0 }) { signed, _ in
            try await self.configuration.http.stream(signed, progress: progress, into: consume)
        }
    }

    /// Signs and runs `transfer` until it succeeds, retrying failures the retry strategy deems
    /// transient when `mayRetry` allows, and fetching fresh credentials once after ExpiredToken.
    /// `transfer` may answer a non-2xx response or throw `HTTPError` for it. The same request
    /// (and so the same idempotency token) goes out on every attempt; a request that repeats its
    /// work is resent only when AWS cannot have acted on it (see `AWSRequest.Idempotency`).
    private func withRetries(_ request: AWSRequest, mayRetry: (AWSError) -> Bool,
                             _ transfer: (HTTPRequest, Int) async throws -> HTTPResponse) async throws -> HTTPResponse {
        let endpoint = configuration.endpoint(for: request.service)
        var attempt = 1
        var lastRetryCost: Int?
        var refreshedCredentials = false
        while true {
            try Task.checkCancellation()
            var failure: AWSError
            // Whether AWS may have acted on this attempt: it did not when it throttled (throttling
            // is decided before any work) or when the request never left this machine.
            let mayHaveActed: Bool
            do {
                let credentials = try await configuration.credentials.credentials()
                let response = try await transfer(try sign(request, endpoint: endpoint, credentials: credentials), attempt)
                if response.status < 400 {
                    configuration.retry.recordSuccess(lastRetryCost: lastRetryCost)
                    return response
                }
                failure = ErrorParser.parse(response, request: request)
                mayHaveActed = !failure.isThrottling
            } catch let error as HTTPError {
                failure = ErrorParser.parse(error, request: request, endpoint: endpoint)
                mayHaveActed = error.status == nil ? !error.requestWasNotSent : !failure.isThrottling
            }
            failure.attempts = attempt
            if request.idempotency == .repeatsWork, mayHaveActed, failure.isTransient {
                failure.mayHaveTakenEffect = true
                throw failure
            }
            let retryable = mayRetry(failure)
            if ["ExpiredToken", "ExpiredTokenException"].contains(failure.code), !refreshedCredentials, retryable {
                // Temporary credentials ran out between our check and AWS's: fetch new ones once.
                refreshedCredentials = true
                _ = try await configuration.credentials.credentials(forceRefresh: true)
                continue
            }
            guard retryable, let retry = configuration.retry.retry(after: attempt, error: failure) else { throw failure }
            try await configuration.sleep(retry.delay)
            lastRetryCost = retry.cost
            attempt += 1
        }
    }

    /// The HTTP request for `request`: URL from the endpoint, `Host`, and SigV4 headers.
    func sign(_ request: AWSRequest, endpoint: Endpoint, credentials: Credentials) throws -> HTTPRequest {
        let (base, host) = Self.address(of: request, at: endpoint)
        var path = request.path
        if path.isEmpty || !path.hasPrefix("/") { path = "/" + path }
        var url = base + (base.hasSuffix("/") ? String(path.dropFirst()) : path)
        if !request.query.isEmpty {
            url += "?" + request.query.map { "\(URIEncoding.encode($0.name))=\(URIEncoding.encode($0.value))" }
                .joined(separator: "&")
        }
        let payloadHash = try Self.payloadHash(request.body, service: request.service, secure: base.hasPrefix("https"))
        var headers = request.headers
        headers.set("Host", host)
        if request.service == .s3 { headers.set("x-amz-content-sha256", payloadHash) }
        // Headers libcurl or a proxy may change are not signed.
        let signedNames: Set<String> = ["user-agent", "expect", "content-length", "transfer-encoding", "connection"]
        let toSign = headers.fields.filter { !signedNames.contains($0.name.lowercased()) }.map { ($0.name, $0.value) }
        let scopeRegion = request.service.isGlobal ? "us-east-1" : configuration.region.name
        let signer = SigV4Signer(service: request.service.signingName, region: scopeRegion)
        let signing = SigningRequest(method: request.method.rawValue, path: path, query: request.query,
                                     headers: toSign, payloadHash: payloadHash)
        let date = SigningDate(secondsSince1970: configuration.clock())
        for header in signer.authorizationHeaders(for: signing, credentials: credentials.signing, date: date) {
            headers.set(header.name, header.value)
        }
        return HTTPRequest(method: request.method, url: url, headers: headers, body: request.body,
                           timeouts: configuration.timeouts, caBundlePath: configuration.environment["AWS_CA_BUNDLE"])
    }

    /// The base URL and `Host` header for `request` at `endpoint`, with its host prefix applied
    /// (S3's virtual-hosted "bucket.").
    static func address(of request: AWSRequest, at endpoint: Endpoint) -> (base: String, host: String) {
        var (base, host) = split(endpoint.url)
        if let prefix = request.hostPrefix, let schemeEnd = base.range(of: "://") {
            base.insert(contentsOf: prefix, at: schemeEnd.upperBound)
            host = prefix + host
        }
        return (base, host)
    }

    /// "https://host:port/base" -> ("https://host:port/base", "host:port"); default ports dropped from Host.
    static func split(_ url: String) -> (String, String) {
        guard let schemeEnd = url.range(of: "://") else { return (url, url) }
        let rest = url[schemeEnd.upperBound...]
        var authority = String(rest.prefix { $0 != "/" })
        if url.hasPrefix("https://") && authority.hasSuffix(":443") { authority.removeLast(4) }
        if url.hasPrefix("http://") && authority.hasSuffix(":80") { authority.removeLast(3) }
        return (url, authority)
    }

    /// SHA-256 of the body; S3 file and stream bodies over TLS go as UNSIGNED-PAYLOAD.
    static func payloadHash(_ body: RequestBody, service: AWSService, secure: Bool) throws -> String {
        switch body {
        case .empty:
            return SigV4Signer.emptyPayloadHash
        case .bytes(let bytes):
            return SigV4Signer.hexSHA256(bytes)
        case .file(let path, let offset, let length):
            if service == .s3 && secure { return SigV4Signer.unsignedPayload }
            return try FileDigest.sha256Hex(path: path, offset: offset, length: length)
        case .stream:
            return SigV4Signer.unsignedPayload
        }
    }
}

extension Credentials {
    var signing: SigningCredentials {
        SigningCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
    }
}
