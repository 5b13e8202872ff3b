@testable import DevboxKit
import Foundation
@testable import Git
@testable import GitHub
import Testing

/// The pure parts of push and pull requests: titles from commits, review decisions, check lines,
/// GitHub's 422 wording, where the token comes from.
@Suite struct ContributionTests {
    func commit(_ subject: String, _ body: String = "") -> GitCommitMessage {
        GitCommitMessage(id: String(repeating: "a", count: 40), subject: subject, body: body)
    }

    @Test func titleAndBodyComeFromTheCommitsLikeGhFill() {
        let one = Contribution.describe([commit("Fix invoice rounding", "Totals were off by a cent.")], branch: "fix-rounding")
        #expect(one.title == "Fix invoice rounding" && one.body == "Totals were off by a cent.")
        #expect(Contribution.describe([commit("Fix it")], branch: "x").body == nil)
        let several = Contribution.describe([commit("Add the banner"), commit("Style it")], branch: "feature/add_home-banner")
        #expect(several.title == "Add home banner")
        #expect(several.body == "- Add the banner\n- Style it")
    }

    @Test func reviewDecisionFollowsEachReviewersLatestDecidingReview() {
        func review(_ login: String, _ state: String) -> PullRequestReview {
            PullRequestReview(user: PullRequest.User(login: login), state: state, submittedAt: nil)
        }
        #expect(PullRequestStatusReport.decision([], requested: []) == "none")
        #expect(PullRequestStatusReport.decision([], requested: ["grace"]) == "review_required")
        #expect(PullRequestStatusReport.decision([review("grace", "CHANGES_REQUESTED"), review("grace", "APPROVED")], requested: []) == "approved")
        #expect(PullRequestStatusReport.decision([review("grace", "APPROVED"), review("alan", "CHANGES_REQUESTED")], requested: []) == "changes_requested")
        #expect(PullRequestStatusReport.decision([review("grace", "APPROVED"), review("grace", "COMMENTED")], requested: []) == "approved")
        #expect(PullRequestStatusReport.decision([review("grace", "CHANGES_REQUESTED"), review("grace", "DISMISSED")], requested: ["x"]) == "review_required")
    }

    @Test func validationBodiesReadAsOneSentence() {
        func sentence(_ json: String) -> String { GitHubError.validationSentence(Array(json.utf8)) }
        #expect(sentence(#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for acme:add-banner."}]}"#)
            == "a pull request for add-banner already exists")
        #expect(sentence(#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"No commits between new_features and add-banner"}]}"#)
            == "no commits between new_features and add-banner")
        #expect(sentence(#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","field":"base","code":"invalid"},{"resource":"PullRequest","field":"title","code":"missing_field"}]}"#)
            == "PullRequest.base is invalid; PullRequest.title is missing")
        #expect(sentence(#"{"message":"Reviews may only be requested from collaborators."}"#)
            == "GitHub refused the request: Reviews may only be requested from collaborators.")
        #expect(sentence("not json") == "GitHub refused the request as invalid (HTTP 422)")
    }

    @Test func theTokenIsTheFirstOfTheVariablesThenTheFile() throws {
        let home = NSTemporaryDirectory() + "contribution-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: home) }
        let paths = DevboxPaths(environment: ["HOME": home])
        #expect(Workspace.token(environment: ["HOME": home], paths: paths) == nil)
        try FileManager.default.createDirectory(atPath: home + "/.config/devbox", withIntermediateDirectories: true)
        try "file-token\n".write(toFile: paths.gitToken, atomically: true, encoding: .utf8)
        #expect(Workspace.token(environment: ["HOME": home], paths: paths)?.source == "~/.config/devbox/git-token")
        #expect(Workspace.token(environment: ["HOME": home], paths: paths)?.value == "file-token")
        #expect(Workspace.token(environment: ["HOME": home, "GITHUB_TOKEN": "g"], paths: paths)?.source == "GITHUB_TOKEN")
        #expect(Workspace.token(environment: ["HOME": home, "GITHUB_TOKEN": "g", "GH_TOKEN": " "], paths: paths)?.source == "GITHUB_TOKEN")
        #expect(Workspace.token(environment: ["HOME": home, "GITHUB_TOKEN": "g", "GH_TOKEN": "h", "DEVBOX_GIT_TOKEN": "d"], paths: paths)?.source
            == "DEVBOX_GIT_TOKEN")
        let ssh = Workspace.credentials(for: "git@github.com:acme/nuvola.git", username: "x", token: GitHubToken(value: "t", source: "GH_TOKEN"))
        #expect(ssh.source == "the ssh-agent")
        #expect(Workspace.credentials(for: "/srv/nuvola.git", username: "x", token: GitHubToken(value: "t", source: "GH_TOKEN")).source == nil)
    }

    @Test func checkLinesSayPassedFailedOrPending() {
        let status = CombinedStatus(state: "failure", totalCount: 1, statuses: [
            CombinedStatus.Status(state: "failure", context: "ci/test", description: "2 failed", targetURL: nil)])
        let runs = [CheckRun(name: "build", status: "completed", conclusion: "skipped", htmlURL: nil, output: nil),
                    CheckRun(name: "lint", status: "queued", conclusion: nil, htmlURL: nil, output: CheckRun.Output(title: nil, summary: "waiting"))]
        let checks = PullRequestStatusReport.checks(status: status, runs: runs)
        #expect(checks.map(\.summary) == ["FAILED  ci/test: 2 failed", "skipped build", "pending lint (queued): waiting"])
        #expect(checks.map(\.state) == ["failure", "skipped", "pending"])
    }
}
