import Foundation
import Git
import GitHub

/// What `devbox pr` was asked for beyond the defaults.
public struct PullRequestRequest: Sendable {
    public var title: String?
    public var body: String?
    public var draft: Bool
    public var reviewers: [String]
    public var allowDirty: Bool

    public init(title: String? = nil, body: String? = nil, draft: Bool = false, reviewers: [String] = [], allowDirty: Bool = false) {
        self.title = title
        self.body = body
        self.draft = draft
        self.reviewers = reviewers
        self.allowDirty = allowDirty
    }
}

/// What `devbox pr` did, and the pull request as it now stands.
public struct PullRequestOutcome: Sendable, Encodable {
    public enum Action: String, Sendable, Encodable {
        /// A new pull request was opened.
        case created
        /// One was already open for this branch; nothing about it changed (new commits may have been pushed).
        case existing
        /// One was already open, and --title/--body changed it.
        case updated
    }

    public var action: Action
    public var number: Int
    public var url: String
    public var state: String
    public var title: String
    public var head: String
    public var base: String
    public var draft: Bool
    public var createdAt: String
    public var updatedAt: String
    public var reviewersRequested: [String]
    public var push: PushOutcome

    init(action: Action, pull: PullRequest, reviewers: [String], push: PushOutcome) {
        self.action = action
        number = pull.number
        url = pull.htmlURL
        state = pull.state
        title = pull.title
        head = pull.head.ref
        base = pull.base.ref
        draft = pull.draft ?? false
        createdAt = pull.createdAt
        updatedAt = pull.updatedAt
        reviewersRequested = reviewers
        self.push = push
    }

    /// The note on stderr; stdout carries only the URL.
    public var note: String {
        let pushed = push.updated ? "pushed \(push.commits) new commit(s); " : ""
        let asked = reviewersRequested.isEmpty ? "" : "; review requested from \(reviewersRequested.joined(separator: ", "))"
        switch action {
        case .created:
            return "Opened \(draft ? "draft " : "")pull request #\(number) \(head) → \(base): \(title)\(asked)."
        case .existing:
            return "Pull request #\(number) for \(head) is already open; \(pushed.isEmpty ? "origin already had every commit, " : pushed)"
                + "nothing else changed\(asked)."
        case .updated:
            return "Pull request #\(number) for \(head) is already open; \(pushed)updated its \(updatedFields)\(asked)."
        }
    }

    /// What --title/--body changed, for the note (not part of the JSON document).
    var updatedFields = "title and body"

    enum CodingKeys: String, CodingKey {
        case action, number, url, state, title, head, base, draft, createdAt, updatedAt, reviewersRequested, push
    }
}

extension Contribution {
    /// `devbox pr`: checks the branch, pushes what origin lacks, then opens the pull request into
    /// the integration branch, or finds the one already open for this branch (exit 0 either way).
    public func pullRequest(_ request: PullRequestRequest) async throws -> PullRequestOutcome {
        let repository = try workspace.open()
        let branch = try featureBranch(repository, doing: "open a pull request from")
        try checkClean(repository, allowDirty: request.allowDirty, what: "the pull request")
        if let problem = await workspace.fetchQuietly(repository) {
            console.warning("could not fetch origin, comparing with the last known origin/\(integration): \(problem)")
        }
        let base = "refs/remotes/origin/\(integration)"
        guard repository.resolves(base) else {
            throw ContributionError(.nothingAhead, "origin/\(integration) is unknown in \(workspace.path), so devbox cannot tell what the pull "
                + "request would carry. Check origin has \(integration) (repository.integration_branch) and run `git fetch origin`.")
        }
        let commits = try repository.commits(from: "HEAD", notIn: base)
        guard !commits.isEmpty else {
            throw ContributionError(.nothingAhead, "\(branch) has no commits that origin/\(integration) lacks, so there is nothing to propose. "
                + "Commit your work first (`git add -A && git commit`), then run `devbox pr` again.")
        }
        let check = try BranchCheck.inspect(repository, integration: integration, production: workspace.productionBranch)
        if check.kind == .basedOnProduction { console.warning(check.summary.prefix(1).uppercased() + check.summary.dropFirst()) }
        let github = try github(repository)
        let pushed = try await push(repository, branch: branch, forceWithLease: false)
        // Said now: the commits are on origin even if GitHub fails next.
        if pushed.updated { console.note(pushed.summary) }
        if let open = try await openPullRequest(github, head: branch) {
            return try await update(open, github: github, request: request, push: pushed)
        }
        let (title, body) = Self.describe(commits, branch: branch)
        let new = NewPullRequest(title: request.title ?? title, head: branch, base: integration, body: request.body ?? body, draft: request.draft)
        let created: PullRequest
        do {
            created = try await github.createPullRequest(new)
        } catch let error as GitHubError where error.kind == .validation && error.message.contains("already exists") {
            // Opened by someone (or another devbox) since we looked: that one is ours.
            guard let open = try await openPullRequest(github, head: branch) else { throw error }
            return try await update(open, github: github, request: request, push: pushed)
        }
        let asked = await askReviewers(request.reviewers, on: created.number, github: github)
        return PullRequestOutcome(action: .created, pull: created, reviewers: asked, push: pushed)
    }

    /// The open pull request from `branch` into the integration branch, if there is one.
    func openPullRequest(_ github: GitHubClient, head branch: String) async throws -> PullRequest? {
        try await github.pullRequests(head: branch).first { $0.base.ref == integration }
    }

    /// An already open pull request: --title/--body change it, --reviewer asks; nothing else is touched.
    func update(_ open: PullRequest, github: GitHubClient, request: PullRequestRequest, push: PushOutcome) async throws -> PullRequestOutcome {
        var pull = open
        var action = PullRequestOutcome.Action.existing
        if request.title != nil || request.body != nil {
            pull = try await github.updatePullRequest(open.number, title: request.title, body: request.body)
            action = .updated
        }
        let missing = request.reviewers.filter { login in !(open.requestedReviewers ?? []).contains { $0.login == login } }
        let asked = await askReviewers(missing, on: open.number, github: github)
        var outcome = PullRequestOutcome(action: action, pull: pull, reviewers: asked, push: push)
        outcome.updatedFields = [request.title != nil ? "title" : nil, request.body != nil ? "body" : nil].compactMap { $0 }.joined(separator: " and ")
        return outcome
    }

    /// Asks for reviews; a refusal (not a collaborator, a typo) is a warning: the pull request itself is open.
    func askReviewers(_ logins: [String], on number: Int, github: GitHubClient) async -> [String] {
        guard !logins.isEmpty else { return [] }
        do {
            try await github.requestReviewers(number, logins)
            return logins
        } catch {
            console.warning("pull request #\(number) is open, but asking \(logins.joined(separator: ", ")) to review failed: \(error) "
                + "Check the login(s), then `devbox pr --reviewer LOGIN` asks again.")
            return []
        }
    }

    /// A title and body from the commits, as `gh pr create --fill` makes them: one commit gives
    /// its subject and body; several give the branch name and the list of their subjects.
    public static func describe(_ commits: [GitCommitMessage], branch: String) -> (title: String, body: String?) {
        if commits.count == 1, let only = commits.first {
            return (only.subject, only.body.isEmpty ? nil : only.body)
        }
        let words = branch.split(separator: "/").last.map(String.init) ?? branch
        let spaced = words.replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "_", with: " ")
        return (spaced.prefix(1).uppercased() + spaced.dropFirst(), commits.map { "- \($0.subject)" }.joined(separator: "\n"))
    }
}
