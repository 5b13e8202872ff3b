/// What HTTP values show of themselves in `"\(x)"`, `String(reflecting:)` and `dump`: never the
/// value of a credential header, user info or signature in a URL, or a body's bytes (a request
/// body may carry a SecureString parameter, a response body fresh credentials).
extension HTTPHeaders.Field: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Header names whose values are secrets.
    static let secretNames: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-amz-security-token",
        "x-aws-ec2-metadata-token", "x-api-key", "private-token",
    ]

    var shownValue: String { Self.secretNames.contains(name.lowercased()) ? "<redacted>" : value }

    public var description: String { "\(name): \(shownValue)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "value": shownValue], displayStyle: .struct)
    }
}

extension RequestBody: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        switch self {
        case .empty: "no body"
        case .bytes(let bytes): "\(bytes.count) bytes"
        case .file(let path, let offset, let length): "file \(path) from \(offset)" + (length.map { ", \($0) bytes" } ?? "")
        case .stream(let length, _): "a stream" + (length.map { " of \($0) bytes" } ?? "")
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["body": description], displayStyle: .enum) }
}

extension HTTPRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// "PUT https://host/path (3 headers, 12 bytes)", the URL redacted.
    public var description: String {
        "\(method) \(RedactedURL.redact(url)) (\(headers.fields.count) headers, \(body))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["method": method, "url": RedactedURL.redact(url), "headers": headers.fields,
                                "body": body, "timeouts": timeouts, "maxRedirects": maxRedirects,
                                "caBundlePath": caBundlePath as Any, "unixSocketPath": unixSocketPath as Any],
               displayStyle: .struct)
    }
}

extension HTTPResponse: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// "HTTP 200 from https://host/path (1234 bytes)".
    public var description: String { "HTTP \(status) from \(RedactedURL.redact(url)) (\(body.count) bytes)" }
    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["status": status, "headers": headers.fields, "body": "\(body.count) bytes",
                                "url": RedactedURL.redact(url), "metrics": metrics],
               displayStyle: .struct)
    }
}
