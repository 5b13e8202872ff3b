/// A failed HTTP transfer: what was asked, what went wrong, libcurl's own words, and what to try.
/// The URL never carries credentials (see `RedactedURL`).
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server answered with this non-2xx status.
        case status(Int)
        case cannotResolveHost
        case cannotConnect
        case connectTimeout
        /// The overall time limit ran out.
        case timeout
        /// The rate stayed below the low-speed limit for its whole window.
        case lowSpeed
        /// The connection closed or failed mid-transfer.
        case connectionLost
        case tls
        case tooManyRedirects
        /// The response body was larger than the memory sink allows.
        case bodyTooLarge(limit: Int)
        /// Reading the request body or writing the response failed on our side (disk full, ...).
        case localIO
        case other(code: Int)
    }

    public var kind: Kind
    public var method: HTTPMethod
    /// The URL with user info and signature-like query values removed.
    public var url: String
    /// libcurl's message (`CURLOPT_ERRORBUFFER` or `curl_easy_strerror`) or the local I/O error.
    public var detail: String?
    /// The body of a non-2xx response, capped at 64 KiB.
    public var responseBody: [UInt8]
    /// Headers of the response, as far as they arrived (request ids live here).
    public var responseHeaders = HTTPHeaders()

    public init(kind: Kind, method: HTTPMethod, url: String, detail: String?, responseBody: [UInt8] = []) {
        self.kind = kind
        self.method = method
        self.url = RedactedURL.redact(url)
        self.detail = detail
        self.responseBody = responseBody
    }

    /// Failures worth another attempt: the network, not the request, was at fault.
    public var isTransient: Bool {
        switch kind {
        case .cannotConnect, .connectTimeout, .timeout, .lowSpeed, .connectionLost: true
        case .status(let code): [500, 502, 503, 504].contains(code)
        default: false
        }
    }

    /// True when the failure shows the request never reached the server (no connection, no TLS
    /// session), so sending it again cannot repeat its effect. Every other failure without an
    /// answer (a connection lost, a timeout) may have come after the server acted on it.
    public var requestWasNotSent: Bool {
        switch kind {
        case .cannotResolveHost, .cannotConnect, .connectTimeout, .tls: true
        default: false
        }
    }

    public var status: Int? {
        if case .status(let code) = kind { return code }
        return nil
    }

    public var description: String {
        var text = "\(method) \(url) failed: \(summary)"
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        text += "."
        if case .status = kind, let excerpt = bodyExcerpt { text += "\nThe server said: \(excerpt)" }
        if let hint { text += "\n\(hint)" }
        return text
    }

    public var summary: String {
        switch kind {
        case .status(let code): "the server answered HTTP \(code)"
        case .cannotResolveHost: "the host name could not be resolved"
        case .cannotConnect: "could not connect"
        case .connectTimeout: "the connection timed out"
        case .timeout: "the transfer took longer than its time limit"
        case .lowSpeed: "the transfer stalled below the minimum speed"
        case .connectionLost: "the connection was lost mid-transfer"
        case .tls: "the TLS handshake or certificate check failed"
        case .tooManyRedirects: "too many redirects"
        case .bodyTooLarge(let limit): "the response was larger than \(limit) bytes"
        case .localIO: "a local read or write failed"
        case .other(let code): "libcurl error \(code)"
        }
    }

    var hint: String? {
        switch kind {
        case .cannotResolveHost: "Check the host name and this machine's DNS settings."
        case .cannotConnect, .connectTimeout:
            "Check that the server is running and reachable from here (firewall, proxy variables, endpoint URL)."
        case .timeout, .lowSpeed, .connectionLost: "The network or the server may be overloaded; try again."
        case .tls: "Check the server's certificate, the system clock, or pass the right CA bundle."
        case .localIO: "Check free disk space and permissions on the destination."
        default: nil
        }
    }

    /// The first few hundred printable characters of the response body.
    var bodyExcerpt: String? {
        guard !responseBody.isEmpty else { return nil }
        let text = String(decoding: responseBody.prefix(600), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.count > 500 ? String(text.prefix(500)) + "…" : text
    }
}

/// Removes what must never reach a log or an error: user info and credential-like query values.
public enum RedactedURL {
    static let secretParameters: Set<String> = [
        "x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "awsaccesskeyid",
        "token", "access_token", "password", "secret", "key",
    ]

    public static func redact(_ url: String) -> String {
        var result = url
        if let scheme = result.range(of: "://") {
            let authorityEnd = result[scheme.upperBound...].firstIndex { "/?#".contains($0) } ?? result.endIndex
            if let at = result[scheme.upperBound..<authorityEnd].lastIndex(of: "@") {
                result.replaceSubrange(scheme.upperBound...at, with: "")
            }
        }
        guard let question = result.firstIndex(of: "?") else { return result }
        let fragmentStart = result[question...].firstIndex(of: "#") ?? result.endIndex
        let query = result[result.index(after: question)..<fragmentStart]
        let cleaned = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, secretParameters.contains(parts[0].lowercased()) else { return String(pair) }
            return "\(parts[0])=REDACTED"
        }.joined(separator: "&")
        return String(result[...question]) + cleaned + String(result[fragmentStart...])
    }
}
