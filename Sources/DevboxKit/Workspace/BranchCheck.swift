import Git

/// Where the developer's work stands against the integration branch: what `up` and `status`
/// report, and what they flag.
public struct BranchCheck: Sendable, Encodable, Equatable {
    public enum Kind: String, Sendable, Encodable {
        /// On the integration branch itself.
        case integration
        /// A feature branch whose commits all belong on the integration branch.
        case feature
        /// On the production branch: work here would not reach the integration branch.
        case production
        /// A feature branch that carries production commits the integration branch lacks.
        case basedOnProduction
        case detached
    }

    public var kind: Kind
    public var branch: String?
    public var integrationBranch: String
    public var productionBranch: String
    /// Commits on this branch that origin/<integration> lacks, and the other way round.
    public var ahead: Int
    public var behind: Int
    /// For `.basedOnProduction`: the production commits this branch would drag into a pull request.
    public var productionCommits: Int
    public var dirty: [String]
    /// False when origin/<integration> is unknown (never fetched): ahead/behind are then 0.
    public var integrationKnown: Bool

    /// True when the developer should act (wrong branch); behind alone is only information.
    public var isFlagged: Bool { kind == .production || kind == .basedOnProduction || kind == .detached }

    public static func inspect(_ repository: Repository, integration: String, production: String) throws -> BranchCheck {
        let upstream = "origin/\(integration)"
        let known = repository.resolves(upstream)
        let branch = try repository.currentBranch()
        let dirty = try repository.status().map(\.path)
        var (ahead, behind) = (0, 0)
        if known, repository.resolves("HEAD") { (ahead, behind) = try repository.aheadBehind("HEAD", upstream) }
        var check = BranchCheck(kind: .feature, branch: branch, integrationBranch: integration,
                                productionBranch: production, ahead: ahead, behind: behind,
                                productionCommits: 0, dirty: dirty, integrationKnown: known)
        switch branch {
        case nil: check.kind = .detached
        case integration?: check.kind = .integration
        case production?: check.kind = .production
        default:
            // Commits a pull request to the integration branch would carry that came from production.
            if known, ahead > 0, repository.resolves("origin/\(production)") {
                let own = try repository.countCommits(reachableFrom: ["HEAD"], excluding: [upstream, "origin/\(production)"])
                check.productionCommits = ahead - own
                if check.productionCommits > 0 { check.kind = .basedOnProduction }
            }
        }
        return check
    }

    /// One or two sentences for `up` and `status`, with the command that fixes a flagged state.
    public var summary: String {
        let upstream = "origin/\(integrationBranch)"
        let position = !integrationKnown ? "\(upstream) is unknown (run `git fetch`)"
            : behind == 0 && ahead == 0 ? "up to date with \(upstream)"
            : [ahead > 0 ? "\(ahead) ahead" : nil, behind > 0 ? "\(behind) behind" : nil].compactMap { $0 }.joined(separator: ", ")
                + " \(upstream)"
        let changes = dirty.isEmpty ? "" : "; \(dirty.count) uncommitted change\(dirty.count == 1 ? "" : "s")"
        switch kind {
        case .integration:
            let hint = behind > 0 && ahead == 0 ? " (`devbox branch update` brings it forward)" : ""
            return "on \(integrationBranch), \(position)\(changes)\(hint)."
        case .feature:
            return "on feature branch \(branch ?? "?") based on \(integrationBranch), \(position)\(changes)."
        case .production:
            return "on \(branch ?? "?"), the production branch: work here does not go to \(integrationBranch)\(changes). "
                + "Move it to a feature branch: `devbox branch start <topic>` (uncommitted changes come along)."
        case .basedOnProduction:
            return "on \(branch ?? "?"), which carries \(productionCommits) commit(s) from origin/\(productionBranch) that "
                + "\(integrationBranch) lacks; a pull request would bring them along. Rebase your own commits: "
                + "`git rebase --onto \(upstream) origin/\(productionBranch) \(branch ?? "HEAD")`."
        case .detached:
            return "HEAD is detached (not on a branch)\(changes). Start a branch for this work: `devbox branch start <topic>`."
        }
    }

}

extension Workspace {
    /// Opens the workspace and inspects its branch against the integration and production branches.
    public func branchCheck() throws -> BranchCheck {
        try BranchCheck.inspect(try open(), integration: integrationBranch, production: productionBranch)
    }
}
