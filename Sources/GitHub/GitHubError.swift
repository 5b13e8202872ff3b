import Foundation
import HTTP
import Host

/// A GitHub API call failed: the kind (what callers switch on) and one sentence saying what
/// happened and what to do. Never carries the token, only where it came from.
public typealias GitHubError = KindedError<GitHubErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum GitHubErrorKind: Sendable, Equatable {
    /// 401: the token is wrong, expired or revoked; or there is none.
    case unauthorized
    /// 403 without a rate limit: the token may not do this (scopes, SSO, permissions).
    case forbidden
    /// 404: no such repository or pull request, or the token cannot see it.
    case notFound
    /// 422: GitHub refused the request's content; `message` says why in one sentence.
    case validation
    /// 403/429 rate limited, and the wait would be too long to sit through.
    case rateLimited
    /// 5xx: GitHub itself failed.
    case server(Int)
    /// The API could not be reached.
    case network
    /// An answer devbox did not expect (another status, a body it cannot read).
    case unexpected
}

extension GitHubError {
    /// The error body GitHub sends: `{"message": ..., "errors": [{"resource", "field", "code", "message"}]}`.
    struct Body: Decodable {
        struct Detail: Decodable {
            var resource: String?
            var field: String?
            var code: String?
            var message: String?
        }
        var message: String?
        var errors: [Detail]?
    }

    /// GitHub's own words from an error body, when it has some.
    static func serverMessage(_ body: [UInt8]) -> String? {
        (try? JSONDecoder().decode(Body.self, from: Data(body)))?.message
    }

    /// A 422 as one sentence: the `errors` GitHub lists (their messages, else "field is code"),
    /// with the wording it uses for the common pull-request cases made readable.
    public static func validationSentence(_ body: [UInt8]) -> String {
        guard let parsed = try? JSONDecoder().decode(Body.self, from: Data(body)) else {
            return "GitHub refused the request as invalid (HTTP 422)"
        }
        let details = (parsed.errors ?? []).map { detail -> String in
            if let message = detail.message, !message.isEmpty { return readable(message) }
            let subject = [detail.resource, detail.field].compactMap { $0 }.joined(separator: ".")
            let code = detail.code.map { $0 == "missing_field" ? "is missing" : $0 == "invalid" ? "is invalid" : $0 == "already_exists" ? "already exists" : "is \($0)" } ?? "is invalid"
            return subject.isEmpty ? code : "\(subject) \(code)"
        }
        if !details.isEmpty { return details.joined(separator: "; ") }
        return parsed.message.map { "GitHub refused the request: \($0)" } ?? "GitHub refused the request as invalid (HTTP 422)"
    }

    /// "A pull request already exists for acme:add-banner." → "a pull request for add-banner already exists".
    static func readable(_ message: String) -> String {
        var text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix(".") { text.removeLast() }
        let exists = "A pull request already exists for "
        if text.hasPrefix(exists) {
            let head = text.dropFirst(exists.count)
            let branch = head.split(separator: ":", maxSplits: 1).last.map(String.init) ?? String(head)
            return "a pull request for \(branch) already exists"
        }
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
