import HTTP
import SigV4

/// One AWS operation as it goes on the wire, before endpoint and signature are added.
public struct AWSRequest: Sendable {
    public var service: AWSService
    /// The operation's name, for errors ("DescribeInstances").
    public var operation: String
    public var method: HTTPMethod
    /// The path as sent, percent-encoded ("/bucket/key%20name").
    public var path: String
    /// Decoded query parameters; encoded when the URL is built.
    public var query: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: RequestBody
    /// How the error body of this request is laid out.
    public var errorFormat: ErrorFormat
    /// Prepended to the endpoint's host: S3's virtual-hosted style ("bucket.").
    public var hostPrefix: String?
    /// Whether AWS carrying the request out twice does its work twice (see `Idempotency`).
    public var idempotency: Idempotency

    /// What a resent request does if the first one was carried out but its answer was lost
    /// (a connection dropped after the server processed it, a timeout, a 5xx).
    public enum Idempotency: Sendable, Equatable {
        /// Nothing more: reads, writes of a whole value, deletes, and calls that carry an
        /// idempotency token (ClientToken, ClientRequestToken) generated once per call and
        /// resent unchanged. Retried on every transient failure, as the standard retry mode does.
        case idempotent
        /// The work again, and AWS offers no token for it (SendCommand runs the commands twice,
        /// CreateAccessKey makes a second key). Resent only after failures that show AWS did not
        /// carry it out: throttling, and connections that never carried the request.
        case repeatsWork
    }

    public enum ErrorFormat: Sendable {
        /// `<ErrorResponse><Error><Code>`: IAM, STS, AutoScaling, ELBv2, CloudFormation.
        case query
        /// `<Response><Errors><Error><Code>`: EC2.
        case ec2
        /// `{"__type": ..., "message": ...}`: SSM.
        case json
        /// `<Error><Code>`, or nothing at all for HEAD: S3.
        case restXML
    }

    public init(service: AWSService, operation: String, method: HTTPMethod = .post, path: String = "/",
                query: [(name: String, value: String)] = [], headers: HTTPHeaders = [:], body: RequestBody = .empty,
                errorFormat: ErrorFormat, hostPrefix: String? = nil, idempotency: Idempotency = .idempotent) {
        self.hostPrefix = hostPrefix
        self.idempotency = idempotency
        self.service = service
        self.operation = operation
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.errorFormat = errorFormat
    }

    /// Bodies that can be sent again on a retry.
    var isReplayable: Bool {
        if case .stream = body { return false }
        return true
    }
}
