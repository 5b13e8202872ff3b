import Foundation
import HTTP

/// Where a repository URL points, read the way git reads it: `scheme://...` is a URL, `host:path`
/// (a colon before any slash) is scp-like SSH, anything else is a path on this machine.
enum RemoteLocation: Equatable {
    case local(path: String)
    case ssh
    case http
    /// Another URL scheme (git://, ftp://, ...), left to libgit2 to accept or refuse.
    case other

    init(_ url: String) {
        if url.hasPrefix("file://") {
            self = .local(path: String(url.dropFirst("file://".count)))
        } else if url.hasPrefix("https://") || url.hasPrefix("http://") {
            self = .http
        } else if url.hasPrefix("ssh://") || url.hasPrefix("git+ssh://") || url.hasPrefix("ssh+git://") {
            self = .ssh
        } else if url.contains("://") {
            self = .other
        } else if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") {
            self = .ssh
        } else {
            self = .local(path: url)
        }
    }

    /// `url` with a relative local path made absolute against `directory` (and `~/` against
    /// `home`); every other URL unchanged. A relative path in a config file would name a
    /// different repository from every directory devbox runs in.
    static func absolute(_ url: String, from directory: String, home: String) -> String {
        guard case .local(let path) = RemoteLocation(url), !url.hasPrefix("file://") else { return url }
        return absolutePath(path, from: directory, home: home)
    }

    /// `path` made absolute against `directory`, `~` and `~/...` against `home`, `.` and `..` resolved.
    static func absolutePath(_ path: String, from directory: String, home: String) -> String {
        let expanded = path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
        let absolute = expanded.hasPrefix("/") ? expanded : directory + "/" + expanded
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// Whether two remote URLs name the same repository: local paths compared as resolved paths,
    /// other URLs ignoring credentials, a trailing `/` or `.git`, and the case of letters.
    static func same(_ a: String, _ b: String) -> Bool {
        if case .local(let left) = RemoteLocation(a), case .local(let right) = RemoteLocation(b) {
            func resolved(_ path: String) -> String {
                var text = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
                while text.count > 1 && text.hasSuffix("/") { text.removeLast() }
                return text
            }
            return resolved(left) == resolved(right)
        }
        func normal(_ url: String) -> String {
            var text = RedactedURL.redact(url.trimmingCharacters(in: .whitespaces))
            while text.hasSuffix("/") { text.removeLast() }
            if text.hasSuffix(".git") { text.removeLast(4) }
            return text.lowercased()
        }
        return normal(a) == normal(b)
    }
}
