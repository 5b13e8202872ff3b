import Foundation
import HTTP

/// A small client for GitHub's REST API over the HTTP module: bearer token, GitHub's media type
/// and API version, `Link` pagination, and both rate limits honoured (a short wait is sat
/// through, a long one explained). Errors are `GitHubError` sentences that never hold the token.
public final class GitHubClient: Sendable {
    /// The API version every request asks for (`X-GitHub-Api-Version`).
    public static let apiVersion = "2022-11-28"

    public let baseURL: String
    public let repository: GitHubRepository
    let http: HTTPClient
    let token: GitHubToken?
    /// The longest rate-limit wait sat through; anything longer fails with the time to retry.
    let maxWait: Duration
    let sleep: @Sendable (Duration) async throws -> Void
    let now: @Sendable () -> Date
    /// Told when the client waits (a rate limit, a retry), for the user's stderr.
    let notify: @Sendable (String) -> Void
    /// Items per page of a list (`per_page`; GitHub allows up to 100).
    let pageSize: Int

    public init(http: HTTPClient, baseURL: String, repository: GitHubRepository, token: GitHubToken?,
                maxWait: Duration = .seconds(60),
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
                now: @escaping @Sendable () -> Date = { Date() },
                notify: @escaping @Sendable (String) -> Void = { _ in }, pageSize: Int = 100) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.repository = repository
        self.http = http
        self.token = token
        self.maxWait = maxWait
        self.sleep = sleep
        self.now = now
        self.notify = notify
        self.pageSize = pageSize
    }

    /// `GITHUB_API_URL` (GitHub Enterprise: `https://HOST/api/v3`), else `https://api.github.com`.
    public static func apiURL(environment: [String: String]) -> String {
        let configured = environment["GITHUB_API_URL"]?.trimmingCharacters(in: .whitespaces) ?? ""
        return configured.isEmpty ? "https://api.github.com" : configured
    }

    /// `/repos/{owner}/{repo}` + `path`.
    func repositoryPath(_ path: String) -> String { "/repos/\(repository.owner)/\(repository.name)\(path)" }

    /// Sends one request (a path under the API, or a full URL on the API's host from a `Link`),
    /// waiting out rate limits when the wait is short and retrying a GET GitHub failed (5xx)
    /// once. Returns 2xx answers; every other status becomes a `GitHubError`.
    func send(_ method: HTTPMethod, _ target: String, body: (any Encodable & Sendable)? = nil,
              what: String) async throws -> HTTPResponse {
        let url = target.hasPrefix("/") ? baseURL + target : target
        var request = HTTPRequest(method: method, url: url, timeouts: HTTPTimeouts(connect: .seconds(10), total: .seconds(60)))
        request.headers.set("Accept", "application/vnd.github+json")
        request.headers.set("X-GitHub-Api-Version", Self.apiVersion)
        if let token { request.headers.set("Authorization", "Bearer \(token.value)") }
        if let body {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            request.body = .bytes(Array(try encoder.encode(body)))
            request.headers.set("Content-Type", "application/json")
        }
        var waits = 0
        var serverRetries = 0
        while true {
            let response: HTTPResponse
            do {
                response = try await http.send(request)
            } catch let error as HTTPError {
                throw GitHubError(.network, "cannot reach GitHub's API at \(baseURL) (\(error.summary)\(error.detail.map { ": \($0)" } ?? "")) "
                    + "while \(what). Check this machine's network (and GITHUB_API_URL for GitHub Enterprise), then run the command again.")
            }
            if response.isSuccess { return response }
            if response.status == 403 || response.status == 429, let limit = rateLimit(response) {
                if limit.wait <= maxWait, waits < 3 {
                    waits += 1
                    notify("GitHub's \(limit.kind) rate limit: waiting \(Self.seconds(limit.wait)) before \(what), as GitHub asks")
                    try await sleep(limit.wait)
                    continue
                }
                throw GitHubError(.rateLimited, "GitHub's \(limit.kind) rate limit stops \(what) for \(Self.seconds(limit.wait))"
                    + "\(limit.until.map { " (until \(Self.clock($0)) UTC)" } ?? ""); devbox changed nothing. Run the command again then.")
            }
            if (500...599).contains(response.status), method == .get, serverRetries < 1 {
                serverRetries += 1
                try await sleep(.seconds(1))
                continue
            }
            throw failure(response, what: what)
        }
    }

    /// Decodes a 2xx answer's JSON body.
    func decode<Value: Decodable>(_ type: Value.Type, _ response: HTTPResponse, what: String) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw GitHubError(.unexpected, "GitHub's answer to \(what) is not what devbox expects (\(error)). Check GITHUB_API_URL points at GitHub's REST API.")
        }
    }

    /// Every page of a list: `items` reads one page's body, `Link: <...>; rel="next"` leads on.
    /// A next link to another host is not followed: the token goes only to the API it was meant for.
    func pages<Item: Decodable>(_ path: String, what: String, items: (HTTPResponse) throws -> [Item]) async throws -> [Item] {
        var result: [Item] = []
        var next: String? = path
        var seen = 0
        while let target = next, seen < 100 {
            let response = try await send(.get, target, what: what)
            result += try items(response)
            next = Self.nextLink(response.headers["Link"]).flatMap { $0.hasPrefix(baseURL + "/") ? $0 : nil }
            seen += 1
        }
        return result
    }

    /// The `rel="next"` URL of a `Link` header (RFC 8288), nil when there is none.
    public static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            if pieces.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "") == "rel=\"next\"" || $0 == "rel=next" }) {
                return String(target.dropFirst().dropLast())
            }
        }
        return nil
    }

    struct RateLimit {
        var kind: String
        var wait: Duration
        var until: Date?
    }

    /// Whether a 403/429 is a rate limit and how long GitHub asks us to wait: `retry-after`
    /// (secondary limits, 429), else `x-ratelimit-remaining: 0` until `x-ratelimit-reset`, else
    /// a secondary limit without a header (at least a minute, GitHub's documentation says).
    func rateLimit(_ response: HTTPResponse) -> RateLimit? {
        let current = now()
        if let retry = response.headers["retry-after"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
            return RateLimit(kind: "secondary", wait: .seconds(max(retry, 0)), until: current.addingTimeInterval(Double(retry)))
        }
        if response.headers["x-ratelimit-remaining"]?.trimmingCharacters(in: .whitespaces) == "0" {
            let reset = response.headers["x-ratelimit-reset"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                .map { Date(timeIntervalSince1970: $0) } ?? current.addingTimeInterval(60)
            let seconds = max(1, Int(reset.timeIntervalSince(current).rounded(.up)))
            return RateLimit(kind: "primary", wait: .seconds(seconds), until: reset)
        }
        if response.status == 429 || (GitHubError.serverMessage(response.body) ?? "").lowercased().contains("secondary rate limit") {
            return RateLimit(kind: "secondary", wait: .seconds(60), until: current.addingTimeInterval(60))
        }
        return nil
    }

    /// A non-2xx answer (not a rate limit) as the sentence a developer can act on.
    func failure(_ response: HTTPResponse, what: String) -> GitHubError {
        let said = GitHubError.serverMessage(response.body).map { ": \($0)" } ?? ""
        let credential = token.map { "\($0)" } ?? "no token"
        switch response.status {
        case 401:
            guard let token else {
                return GitHubError(.unauthorized, "GitHub needs a token for \(what) and devbox has none. Export GH_TOKEN (or put the token "
                    + "in ~/.config/devbox/git-token, mode 0600), then run the command again.")
            }
            return GitHubError(.unauthorized, "GitHub refused \(token) while \(what) (HTTP 401\(said)): it is wrong, expired or revoked. "
                + "Replace it with a valid token (`adminctl access rotate` gives a new one), then run the command again.")
        case 403:
            return GitHubError(.forbidden, "GitHub does not let \(credential) do this: \(what) was refused (HTTP 403\(said)). The token "
                + "needs the `repo` scope (or pull-request write permission) on \(repository); ask your admin.")
        case 404:
            return GitHubError(.notFound, "GitHub has no repository \(repository) that \(credential) can see (HTTP 404 while \(what)). Check "
                + "github.repository (`devbox config show`) and that the token has access to it.")
        case 422:
            let sentence = GitHubError.validationSentence(response.body)
            return GitHubError(.validation, sentence.prefix(1).uppercased() + sentence.dropFirst() + (sentence.hasSuffix(".") ? "" : "."))
        case 500...599:
            return GitHubError(.server(response.status), "GitHub failed while \(what) (HTTP \(response.status)\(said)); nothing was "
                + "changed on your side. Try again in a moment (githubstatus.com shows outages).")
        default:
            return GitHubError(.unexpected, "GitHub answered HTTP \(response.status) while \(what)\(said).")
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let total = Int(duration.components.seconds)
        return total < 120 ? "\(total) s" : "\((total + 59) / 60) min"
    }

    static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm"
        return formatter.string(from: date)
    }
}
