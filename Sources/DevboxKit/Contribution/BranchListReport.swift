import Foundation
import Git
import GitHub
import Terminal

/// `devbox branch list`: every local branch against origin/<integration>, its upstream and its
/// open pull request.
public struct BranchListReport: Sendable, Encodable {
    public struct Entry: Sendable, Encodable {
        public var name: String
        public var current: Bool
        /// Against origin/<integration>; nil when that is unknown.
        public var ahead: Int?
        public var behind: Int?
        public var upstream: String?
        public var pullRequest: PullRequestLink?
    }

    public struct PullRequestLink: Sendable, Encodable {
        public var number: Int
        public var url: String
        public var draft: Bool
    }

    public var integrationBranch: String
    public var branches: [Entry]
    /// Why pull requests could not be listed (no token, GitHub unreachable); nil when they were.
    public var pullRequestsProblem: String?

    public func render() -> String {
        var table = Table(headers: ["  BRANCH", "AHEAD", "BEHIND", "UPSTREAM", "PULL REQUEST"])
        for entry in branches {
            table.append([(entry.current ? "* " : "  ") + Printable.escaping(entry.name), entry.ahead.map(String.init) ?? "?",
                          entry.behind.map(String.init) ?? "?", entry.upstream ?? "-",
                          entry.pullRequest.map { "#\($0.number)\($0.draft ? " (draft)" : "") \($0.url)" } ?? "-"])
        }
        var text = table.render().trimmingCharacters(in: .newlines) + "\nahead/behind: against origin/\(integrationBranch)"
        if let pullRequestsProblem { text += "\npull requests unknown: \(pullRequestsProblem)" }
        return text
    }
}

extension Contribution {
    /// Reads the branches locally (no fetch) and the open pull requests in one listing.
    public func branchList() async throws -> BranchListReport {
        let repository = try workspace.open()
        let current = try repository.currentBranch()
        let base = "refs/remotes/origin/\(integration)"
        let known = repository.resolves(base)
        var entries: [BranchListReport.Entry] = []
        for name in try repository.localBranches() {
            let counts = known ? try repository.aheadBehind("refs/heads/\(name)", base) : nil
            entries.append(BranchListReport.Entry(name: name, current: name == current, ahead: counts?.ahead, behind: counts?.behind,
                                                  upstream: try repository.upstream(of: name), pullRequest: nil))
        }
        var problem: String?
        do {
            let pulls = try await github(repository).pullRequests()
            for index in entries.indices {
                if let pull = pulls.first(where: { $0.head.ref == entries[index].name && $0.base.ref == integration })
                    ?? pulls.first(where: { $0.head.ref == entries[index].name }) {
                    entries[index].pullRequest = .init(number: pull.number, url: pull.htmlURL, draft: pull.draft ?? false)
                }
            }
        } catch let error as GitHubError {
            problem = error.message
        } catch let error as ContributionError {
            problem = error.message
        }
        return BranchListReport(integrationBranch: integration, branches: entries, pullRequestsProblem: problem)
    }
}
