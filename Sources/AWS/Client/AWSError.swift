import HTTP

/// A failed AWS call: which service and operation, AWS's error code and message, the request id
/// support will ask for, the HTTP status, and what to do about it.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public var service: String
    public var operation: String
    /// AWS's code ("AccessDenied", "ThrottlingException"); "ConnectionFailed" when no answer came.
    public var code: String
    public var message: String
    public var requestID: String?
    /// 0 when the request never got an HTTP answer.
    public var httpStatus: Int
    /// The body, when it could not be parsed as an AWS error (kept so nothing is hidden).
    public var rawBody: String?
    /// How many attempts were made before giving up.
    public var attempts: Int = 1
    /// The call repeats its work when resent and AWS may have carried it out before the answer
    /// was lost, so it was not resent: find out (e.g. ListCommands) before calling again.
    public var mayHaveTakenEffect = false

    public init(service: String, operation: String, code: String, message: String, requestID: String? = nil,
                httpStatus: Int, rawBody: String? = nil) {
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message
        self.requestID = requestID
        self.httpStatus = httpStatus
        self.rawBody = rawBody
    }

    public var description: String {
        var text = "\(service) \(operation) failed: \(code)"
        text += httpStatus > 0 ? " (HTTP \(httpStatus))" : ""
        if !message.isEmpty { text += ": \(message)" }
        if let requestID, !requestID.isEmpty { text += " [request id \(requestID)]" }
        if attempts > 1 { text += " after \(attempts) attempts" }
        text += "."
        if mayHaveTakenEffect {
            text += " AWS may have carried out \(operation) before the answer was lost, so it was not sent again;"
                + " check its effect before calling it again."
        }
        if let rawBody, !rawBody.isEmpty { text += "\nThe response was: \(rawBody.prefix(400))" }
        if let hint { text += "\n\(hint)" }
        return text
    }

    public var isThrottling: Bool { Self.throttlingCodes.contains(code) || httpStatus == 429 }

    /// Worth retrying: throttling, a server-side hiccup or no answer at all.
    public var isTransient: Bool {
        isThrottling || Self.transientCodes.contains(code) || [500, 502, 503, 504].contains(httpStatus)
            || code == Self.connectionFailed
    }

    public static let connectionFailed = "ConnectionFailed"

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "InternalServerError",
    ]

    /// One or two sentences on what usually causes this code and how to fix it.
    public var hint: String? {
        switch code {
        case "SignatureDoesNotMatch", "IncompleteSignature":
            "The secret key does not match the access key id (or a proxy changed the request). Check "
                + "AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key."
        case "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure":
            "AWS does not know this access key: it was deleted, rotated, or belongs to another account. "
                + "Check AWS_ACCESS_KEY_ID or the profile, and run `adminctl doctor`."
        case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired":
            "The temporary credentials have expired. Get fresh ones (re-run the role assumption or "
                + "`aws sso login`); credentials from instance metadata refresh by themselves."
        case "RequestTimeTooSkewed", "RequestExpired", "SignatureExpired", "InvalidSignatureException":
            "This machine's clock is probably more than 5 minutes off. Sync it "
                + "(timedatectl set-ntp true, or chronyc makestep) and try again."
        case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "Forbidden":
            "The credentials are valid but their IAM policy does not allow this. Check the policy attached "
                + "to the caller (`adminctl doctor` shows which identity is used)."
        case Self.connectionFailed:
            "Check the endpoint (AWS_ENDPOINT_URL for the simulated cloud), network access and proxy settings."
        default:
            isThrottling ? "AWS is rate-limiting these calls; wait a little, or lower the concurrency." : nil
        }
    }
}
