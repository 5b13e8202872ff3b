/// A GitHub token and where it came from. Only the source is ever shown: errors say which
/// credential was tried ("GH_TOKEN", "~/.config/devbox/git-token"), never its value.
public struct GitHubToken: Sendable {
    public let value: String
    /// The variable or file the token was read from.
    public let source: String

    public init(value: String, source: String) {
        self.value = value
        self.source = source
    }
}

extension GitHubToken: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "the token from \(source)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["source": source, "value": "<redacted>"], displayStyle: .struct) }
}

/// `owner/name` of a repository on GitHub.
public struct GitHubRepository: Sendable, Equatable, CustomStringConvertible {
    public var owner: String
    public var name: String

    public init(owner: String, name: String) {
        self.owner = owner
        self.name = name
    }

    public var description: String { "\(owner)/\(name)" }

    /// Parses "owner/name".
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else { return nil }
        self.init(owner: String(parts[0]), name: String(parts[1]))
    }

    /// The repository a remote URL names, as GitHub spells remotes: `https://host/owner/name(.git)`,
    /// `git@host:owner/name(.git)`, `ssh://git@host/owner/name(.git)` (the last two path parts).
    public init?(remoteURL url: String) {
        var path: Substring
        if let scheme = url.range(of: "://") {
            let rest = url[scheme.upperBound...]
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            path = rest[rest.index(after: slash)...]
        } else if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") {
            path = url[url.index(after: colon)...]
        } else {
            return nil
        }
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        while path.hasSuffix("/") { path = path.dropLast() }
        if path.hasSuffix(".git") { path = path.dropLast(4) }
        let parts = path.split(separator: "/")
        guard parts.count >= 2 else { return nil }
        self.init(owner: String(parts[parts.count - 2]), name: String(parts[parts.count - 1]))
    }
}
