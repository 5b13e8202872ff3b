import Foundation

/// The proxy a URL should go through, from the environment variables curl and the AWS SDKs honour.
///
/// `http_proxy` is read in lower case only (an upper-case `HTTP_PROXY` can be set by a CGI
/// request header, "httpoxy"); `https_proxy`, `all_proxy` and `no_proxy` in either case.
/// The answer is passed to libcurl explicitly so behaviour does not depend on which variables
/// libcurl itself looks at.
public struct ProxySettings: Sendable, Equatable {
    public var httpProxy: String?
    public var httpsProxy: String?
    public var allProxy: String?
    /// Host names or domain suffixes that bypass the proxy; "*" bypasses it for every host.
    public var noProxy: [String]

    public init(environment: [String: String]) {
        func value(_ names: String...) -> String? {
            for name in names {
                if let value = environment[name], !value.isEmpty { return value }
            }
            return nil
        }
        httpProxy = value("http_proxy")
        httpsProxy = value("https_proxy", "HTTPS_PROXY")
        allProxy = value("all_proxy", "ALL_PROXY")
        noProxy = (value("no_proxy", "NO_PROXY") ?? "")
            .split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The proxy URL for `url`, or nil to connect directly.
    public func proxy(for url: String) -> String? {
        guard let (scheme, host) = Self.schemeAndHost(of: url) else { return nil }
        if bypasses(host: host) { return nil }
        switch scheme {
        case "http": return httpProxy ?? allProxy
        case "https": return httpsProxy ?? allProxy
        default: return allProxy
        }
    }

    func bypasses(host: String) -> Bool {
        let host = host.lowercased()
        for entry in noProxy {
            if entry == "*" { return true }
            var domain = entry.lowercased()
            if domain.hasPrefix(".") { domain.removeFirst() }
            if host == domain || host.hasSuffix("." + domain) { return true }
        }
        return false
    }

    static func schemeAndHost(of url: String) -> (String, String)? {
        guard let separator = url.range(of: "://") else { return nil }
        let scheme = url[..<separator.lowerBound].lowercased()
        var authority = url[separator.upperBound...]
        if let end = authority.firstIndex(where: { "/?#".contains($0) }) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        return (scheme, String(host))
    }
}
