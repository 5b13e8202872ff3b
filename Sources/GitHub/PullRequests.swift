import Foundation
import HTTP

/// A pull request as GitHub's REST API describes it (`pull-request` / `pull-request-simple`
/// in its OpenAPI description), the fields devbox reads.
public struct PullRequest: Decodable, Sendable, Equatable {
    public struct Branch: Decodable, Sendable, Equatable {
        public var ref: String
        public var sha: String
        public var label: String?
    }

    public struct User: Decodable, Sendable, Equatable {
        public var login: String
    }

    public var number: Int
    public var htmlURL: String
    /// "open" or "closed".
    public var state: String
    public var title: String
    public var body: String?
    public var draft: Bool?
    public var merged: Bool?
    /// Only in the single-pull answer, and null while GitHub is still computing it.
    public var mergeable: Bool?
    public var mergeableState: String?
    public var head: Branch
    public var base: Branch
    public var createdAt: String
    public var updatedAt: String
    public var mergedAt: String?
    public var requestedReviewers: [User]?

    enum CodingKeys: String, CodingKey {
        case number, state, title, body, draft, merged, mergeable, head, base
        case htmlURL = "html_url", mergeableState = "mergeable_state", createdAt = "created_at", updatedAt = "updated_at"
        case mergedAt = "merged_at", requestedReviewers = "requested_reviewers"
    }
}

/// A review (`pull-request-review`): who, and APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING.
public struct PullRequestReview: Decodable, Sendable, Equatable {
    public var user: PullRequest.User?
    public var state: String
    public var submittedAt: String?

    enum CodingKeys: String, CodingKey {
        case user, state
        case submittedAt = "submitted_at"
    }
}

/// `combined-commit-status`: the overall state and each context's latest status.
public struct CombinedStatus: Decodable, Sendable, Equatable {
    public struct Status: Decodable, Sendable, Equatable {
        public var state: String
        public var context: String
        public var description: String?
        public var targetURL: String?

        enum CodingKeys: String, CodingKey {
            case state, context, description
            case targetURL = "target_url"
        }
    }

    /// "success", "pending" or "failure".
    public var state: String
    public var totalCount: Int
    public var statuses: [Status]

    enum CodingKeys: String, CodingKey {
        case state, statuses
        case totalCount = "total_count"
    }
}

/// `check-run`: a GitHub Actions job or another app's check.
public struct CheckRun: Decodable, Sendable, Equatable {
    public struct Output: Decodable, Sendable, Equatable {
        public var title: String?
        public var summary: String?
    }

    public var name: String
    /// "queued", "in_progress", "completed" (and "waiting", "requested", "pending").
    public var status: String
    /// When completed: "success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required", "stale".
    public var conclusion: String?
    public var htmlURL: String?
    public var output: Output?

    enum CodingKeys: String, CodingKey {
        case name, status, conclusion, output
        case htmlURL = "html_url"
    }
}

/// What a new pull request carries (`POST /repos/{owner}/{repo}/pulls`).
public struct NewPullRequest: Encodable, Sendable {
    public var title: String
    public var head: String
    public var base: String
    public var body: String?
    public var draft: Bool

    public init(title: String, head: String, base: String, body: String?, draft: Bool) {
        self.title = title
        self.head = head
        self.base = base
        self.body = body
        self.draft = draft
    }
}

extension GitHubClient {
    /// Pull requests whose head is `branch` of this repository (`state`: open, closed or all),
    /// newest first.
    public func pullRequests(head branch: String? = nil, state: String = "open") async throws -> [PullRequest] {
        var query = "state=\(state)&per_page=\(pageSize)"
        if let branch { query += "&head=" + Self.queryValue("\(repository.owner):\(branch)") }
        return try await pages(repositoryPath("/pulls?\(query)"), what: "listing pull requests") { response in
            try decode([PullRequest].self, response, what: "listing pull requests")
        }
    }

    /// One pull request with the fields only the single answer has (mergeable).
    public func pullRequest(_ number: Int) async throws -> PullRequest {
        let what = "reading pull request #\(number)"
        return try decode(PullRequest.self, try await send(.get, repositoryPath("/pulls/\(number)"), what: what), what: what)
    }

    public func createPullRequest(_ new: NewPullRequest) async throws -> PullRequest {
        let what = "opening a pull request from \(new.head) into \(new.base)"
        return try decode(PullRequest.self, try await send(.post, repositoryPath("/pulls"), body: new, what: what), what: what)
    }

    /// Changes a pull request's title and/or body (nil leaves a field as it is).
    public func updatePullRequest(_ number: Int, title: String?, body: String?) async throws -> PullRequest {
        struct Change: Encodable, Sendable {
            var title: String?
            var body: String?
        }
        let what = "updating pull request #\(number)"
        return try decode(PullRequest.self, try await send(.patch, repositoryPath("/pulls/\(number)"), body: Change(title: title, body: body),
                                                            what: what), what: what)
    }

    /// Asks `logins` to review (`POST .../pulls/{number}/requested_reviewers`).
    public func requestReviewers(_ number: Int, _ logins: [String]) async throws {
        struct Reviewers: Encodable, Sendable { var reviewers: [String] }
        _ = try await send(.post, repositoryPath("/pulls/\(number)/requested_reviewers"), body: Reviewers(reviewers: logins),
                           what: "requesting reviews from \(logins.joined(separator: ", ")) on #\(number)")
    }

    public func reviews(_ number: Int) async throws -> [PullRequestReview] {
        try await pages(repositoryPath("/pulls/\(number)/reviews?per_page=\(pageSize)"), what: "reading reviews of #\(number)") { response in
            try decode([PullRequestReview].self, response, what: "reading reviews of #\(number)")
        }
    }

    /// The combined status of `ref` (a commit id or branch) from the commit statuses API.
    public func combinedStatus(_ ref: String) async throws -> CombinedStatus {
        let what = "reading the commit status of \(ref.prefix(12))"
        let path = repositoryPath("/commits/\(Self.pathValue(ref))/status?per_page=\(pageSize)")
        // Pages of a combined status repeat the state and add statuses.
        let pages: [CombinedStatus] = try await pages(path, what: what) { [try decode(CombinedStatus.self, $0, what: what)] }
        guard var first = pages.first else { throw GitHubError(.unexpected, "GitHub sent no commit status for \(ref.prefix(12)).") }
        first.statuses = pages.flatMap(\.statuses)
        return first
    }

    /// The check runs on `ref` (GitHub Actions jobs and other apps' checks).
    public func checkRuns(_ ref: String) async throws -> [CheckRun] {
        struct Page: Decodable {
            var checkRuns: [CheckRun]
            enum CodingKeys: String, CodingKey { case checkRuns = "check_runs" }
        }
        let what = "reading the check runs of \(ref.prefix(12))"
        return try await pages(repositoryPath("/commits/\(Self.pathValue(ref))/check-runs?per_page=\(pageSize)"), what: what) { response in
            try decode(Page.self, response, what: what).checkRuns
        }
    }

    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#?")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func pathValue(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
