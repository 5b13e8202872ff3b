import Foundation
import Git
import GitHub

/// `devbox pr status`: the current branch's pull request, its reviews, mergeability and checks.
public struct PullRequestStatusReport: Sendable, Encodable {
    public struct Pull: Sendable, Encodable {
        public var number: Int
        public var url: String
        /// "open", "closed" or "merged".
        public var state: String
        public var title: String
        public var draft: Bool
        public var head: String
        public var base: String
        /// Nil while GitHub is still computing it.
        public var mergeable: Bool?
        public var mergeableState: String?
        /// "approved", "changes_requested", "review_required" or "none".
        public var reviewDecision: String
        public var reviews: [Review]
        public var requestedReviewers: [String]
    }

    public struct Review: Sendable, Encodable {
        public var login: String
        public var state: String
    }

    /// One status context or check run with its one-line summary.
    public struct Check: Sendable, Encodable {
        /// "status" (commit status API) or "check_run".
        public var kind: String
        public var name: String
        /// "success", "failure", "pending", or a check run's conclusion ("neutral", "skipped", ...).
        public var state: String
        public var summary: String
        public var url: String?
    }

    public var branch: String
    public var pullRequest: Pull?
    /// The commit statuses' combined state ("success", "pending", "failure"), nil without a pull request.
    public var combinedStatus: String?
    public var checks: [Check]

    public func render() -> String {
        guard let pull = pullRequest else {
            return "No pull request for \(branch) yet; `devbox pr` pushes it and opens one."
        }
        var lines = ["#\(pull.number) \(pull.title)", "url        \(pull.url)",
                     "state      \(pull.state)\(pull.draft ? " (draft)" : "") — \(pull.head) → \(pull.base)"]
        let decision = ["approved": "approved", "changes_requested": "changes requested", "review_required": "review required",
                        "none": "no reviews yet"][pull.reviewDecision] ?? pull.reviewDecision
        let who = pull.reviews.map { "\($0.login) \($0.state.lowercased().replacingOccurrences(of: "_", with: " "))" }
            + pull.requestedReviewers.map { "\($0) requested" }
        lines.append("review     \(decision)" + (who.isEmpty ? "" : " (\(who.joined(separator: ", ")))"))
        let mergeable = pull.mergeable.map { $0 ? "yes" : "no, it conflicts with \(pull.base)" } ?? "not known yet (GitHub is computing it)"
        lines.append("mergeable  \(mergeable)" + (pull.mergeableState.map { $0 == "unknown" ? "" : " [\($0)]" } ?? ""))
        if checks.isEmpty {
            lines.append("checks     none reported")
        } else {
            let failing = checks.filter { Self.failing.contains($0.state) }.count
            let pending = checks.filter { $0.state == "pending" }.count
            lines.append("checks     \(checks.count - failing - pending) passed, \(failing) failed, \(pending) pending")
            for check in checks { lines.append("           \(check.summary)") }
        }
        return lines.joined(separator: "\n")
    }

    static let failing: Set<String> = ["failure", "error", "timed_out", "cancelled", "action_required", "startup_failure", "stale"]

    /// The review decision GitHub shows, from each reviewer's latest deciding review.
    static func decision(_ reviews: [PullRequestReview], requested: [String]) -> String {
        var latest: [String: String] = [:]
        for review in reviews where ["APPROVED", "CHANGES_REQUESTED", "DISMISSED"].contains(review.state) {
            latest[review.user?.login ?? "?"] = review.state
        }
        if latest.values.contains("CHANGES_REQUESTED") { return "changes_requested" }
        if latest.values.contains("APPROVED") { return "approved" }
        return requested.isEmpty ? "none" : "review_required"
    }

    static func checks(status: CombinedStatus, runs: [CheckRun]) -> [Check] {
        let statuses = status.statuses.map { item in
            Check(kind: "status", name: item.context, state: item.state,
                  summary: "\(label(item.state)) \(item.context)" + (item.description.map { ": \($0)" } ?? ""), url: item.targetURL)
        }
        let checkRuns = runs.map { run in
            let state = run.status == "completed" ? (run.conclusion ?? "neutral") : "pending"
            let detail = run.output?.title ?? run.output?.summary
            let progress = run.status == "completed" ? "" : " (\(run.status.replacingOccurrences(of: "_", with: " ")))"
            return Check(kind: "check_run", name: run.name, state: state,
                         summary: "\(label(state)) \(run.name)\(progress)" + (detail.map { ": \($0)" } ?? ""), url: run.htmlURL)
        }
        return statuses + checkRuns
    }

    static func label(_ state: String) -> String {
        switch state {
        case "success": "passed "
        case "pending": "pending"
        case "neutral", "skipped": "skipped"
        default: failing.contains(state) ? "FAILED " : state
        }
    }
}

extension Contribution {
    /// `devbox pr status`: reads only (no push, no fetch).
    public func pullRequestStatus() async throws -> PullRequestStatusReport {
        let repository = try workspace.open()
        let branch = try featureBranch(repository, doing: "show the pull request of")
        let github = try github(repository)
        let pulls = try await github.pullRequests(head: branch, state: "all")
        guard let listed = pulls.first(where: { $0.state == "open" && $0.base.ref == integration })
            ?? pulls.first(where: { $0.state == "open" }) ?? pulls.first else {
            return PullRequestStatusReport(branch: branch, pullRequest: nil, combinedStatus: nil, checks: [])
        }
        async let detail = github.pullRequest(listed.number)
        async let reviews = github.reviews(listed.number)
        async let status = github.combinedStatus(listed.head.sha)
        async let runs = github.checkRuns(listed.head.sha)
        let pull = try await detail
        let requested = (pull.requestedReviewers ?? []).map(\.login)
        let allReviews = try await reviews
        var latest: [String: String] = [:]
        for review in allReviews where review.state != "PENDING" { latest[review.user?.login ?? "?"] = review.state }
        let combined = try await status
        let report = PullRequestStatusReport.Pull(
            number: pull.number, url: pull.htmlURL, state: pull.mergedAt != nil || pull.merged == true ? "merged" : pull.state,
            title: pull.title, draft: pull.draft ?? false, head: pull.head.ref, base: pull.base.ref, mergeable: pull.mergeable,
            mergeableState: pull.mergeableState, reviewDecision: PullRequestStatusReport.decision(allReviews, requested: requested),
            reviews: latest.sorted { $0.key < $1.key }.map { PullRequestStatusReport.Review(login: $0.key, state: $0.value) },
            requestedReviewers: requested)
        return PullRequestStatusReport(branch: branch, pullRequest: report, combinedStatus: combined.totalCount == 0 ? nil : combined.state,
                                       checks: PullRequestStatusReport.checks(status: combined, runs: try await runs))
    }
}
