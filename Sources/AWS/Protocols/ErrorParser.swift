import Foundation
import HTTP

/// Turns a non-2xx response into an `AWSError`, reading the error layout of the request's protocol.
enum ErrorParser {
    static func parse(_ response: HTTPResponse, request: AWSRequest) -> AWSError {
        let headerID = response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
        var error = AWSError(service: request.service.displayName, operation: request.operation,
                             code: fallbackCode(response.status), message: "", requestID: headerID,
                             httpStatus: response.status)
        let body = response.body
        guard !body.isEmpty else { return error }
        switch request.errorFormat {
        case .json:
            if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
                // REST-JSON services (EventBridge Scheduler) name the error in a header instead.
                if let type = (object["__type"] ?? object["code"]) as? String ?? response.headers["x-amzn-ErrorType"] {
                    // "com.amazonaws.ssm#InvalidInstanceId" -> "InvalidInstanceId"
                    error.code = String(type.split(separator: "#").last ?? Substring(type))
                        .split(separator: ":").first.map(String.init) ?? type
                }
                error.message = (object["message"] ?? object["Message"]) as? String ?? ""
                return error
            }
        case .query, .ec2, .restXML:
            if let root = try? XMLNode.parse(body), let node = root.first("Error") {
                error.code = node.string("Code") ?? error.code
                error.message = node.string("Message") ?? ""
                error.requestID = root.string("RequestId") ?? root.string("RequestID") ?? node.string("RequestId")
                    ?? error.requestID
                return error
            }
        }
        error.rawBody = String(decoding: body.prefix(1000), as: UTF8.self)
        return error
    }

    /// A transport failure, or a non-2xx answer the HTTP layer turned into an `HTTPError`.
    static func parse(_ error: HTTPError, request: AWSRequest, endpoint: Endpoint) -> AWSError {
        if let status = error.status {
            let response = HTTPResponse(status: status, headers: error.responseHeaders, body: error.responseBody,
                                        url: error.url, metrics: HTTPMetrics())
            return parse(response, request: request)
        }
        return AWSError(service: request.service.displayName, operation: request.operation, code: AWSError.connectionFailed,
                        message: "\(error.summary) at \(endpoint.url)" + (error.detail.map { " (\($0))" } ?? ""),
                        httpStatus: 0)
    }

    /// What to call an error whose body says nothing (HEAD requests, proxies).
    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 429: "TooManyRequestsException"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        default: "HTTP\(status)"
        }
    }
}
