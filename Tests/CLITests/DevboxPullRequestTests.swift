import Foundation
import Host
import Testing
import TestSupport

/// `devbox push`, `devbox pr`, `devbox pr status` and `devbox branch list` as a developer runs
/// them: the workspace cloned over smart HTTP (`git http-backend` behind basic auth) and the
/// stand-in GitHub API, which records what it was asked.
@Suite struct DevboxPullRequestTests {
    static let token = "ghp_devbox-pr-token-0123456789"

    struct World {
        let origin: GitOrigin
        let git: PythonServer
        let api: GitHubStandIn
        var workspace: String { origin.directory.file("ws") }
        var environment: [String: String]

        func run(_ arguments: [String], _ extra: [String: String] = [:], directory: String? = nil) async throws -> ProcessResult {
            try await CLI.run("devbox", arguments, environment: environment.merging(extra) { _, new in new }, directory: directory)
        }

        func commit(_ file: String, _ message: String) async throws {
            try await origin.commit(file, "\(message)\n", message, in: workspace)
        }

        func bareTip(_ branch: String) async throws -> String {
            try await origin.git(["-C", origin.bare, "rev-parse", "--verify", "--quiet", "refs/heads/\(branch)"])
        }

        func done() {
            git.stop()
            api.stop()
            origin.directory.remove()
        }
    }

    /// A workspace cloned over HTTP with the token, on feature branch add-banner with one commit.
    func world(apiToken: String = token) async throws -> World {
        let origin = try await GitOrigin()
        let git = try await origin.serveOverHTTP(user: "x-access-token", token: Self.token)
        let api = try await GitHubStandIn.start(token: apiToken, repositories: ["acme/nuvola": origin.bare])
        var world = World(origin: origin, git: git, api: api, environment: [
            "HOME": origin.directory.path, "DEVBOX_SYSTEM_CONFIG": origin.directory.file("etc.toml"),
            "DOCKER_HOST": "unix://" + origin.directory.file("no-engine.sock"),
            "GH_TOKEN": Self.token, "GITHUB_API_URL": api.url, "DEVBOX_GITHUB_REPOSITORY": "acme/nuvola",
        ])
        let initialised = try await world.run(["init", "--repo", git.url("/origin.git"), "--dir", world.workspace])
        #expect(initialised.status == 0, "\(initialised.errorOutput)")
        #expect(try await world.run(["branch", "start", "add-banner"]).status == 0)
        try await world.commit("banner.txt", "Add a banner to the home page")
        world.environment["GIT_CONFIG_NOSYSTEM"] = "1"
        return world
    }

    func json(_ result: ProcessResult) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any] ?? [:]
    }

    @Test func prPushesOpensOnceAndThenOnlyPushesNewCommits() async throws {
        let world = try await world()
        defer { world.done() }
        let subdirectory = world.workspace + "/src/deep"
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: true)

        let first = try await world.run(["pr"], directory: subdirectory)
        #expect(first.status == 0, "\(first.errorOutput)")
        let url = world.api.url + "/acme/nuvola/pull/1"
        #expect(first.output == url + "\n")
        #expect(first.errorOutput.contains("Pushed the new branch add-banner to origin (1 commit(s), "))
        #expect(first.errorOutput.contains("; it now tracks origin/add-banner."))
        #expect(first.errorOutput.contains("Opened pull request #1 add-banner → new_features: Add a banner to the home page."))
        let local = try await world.origin.git(["-C", world.workspace, "rev-parse", "add-banner"])
        #expect(try await world.bareTip("add-banner") == local)
        #expect(try await world.origin.git(["-C", world.workspace, "rev-parse", "--abbrev-ref", "add-banner@{upstream}"]) == "origin/add-banner")

        var requests = try await world.api.requests()
        let created = try #require(requests.first { $0.method == "POST" && $0.path == "/repos/acme/nuvola/pulls" })
        #expect(created.body["base"] as? String == "new_features")
        #expect(created.body["head"] as? String == "add-banner")
        #expect(created.body["title"] as? String == "Add a banner to the home page")
        #expect(created.body["draft"] as? Int == 0)
        #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer \(Self.token)" })
        #expect(requests.allSatisfy { $0.headers["x-github-api-version"] == "2022-11-28" && $0.headers["accept"] == "application/vnd.github+json" })

        // Again: nothing new, one pull request, exit 0 with its URL.
        try await world.api.clearRequests()
        let again = try await world.run(["pr"])
        #expect(again.status == 0, "\(again.errorOutput)")
        #expect(again.output == url + "\n")
        #expect(again.errorOutput.contains("Pull request #1 for add-banner is already open; origin already had every commit, nothing else changed."))
        requests = try await world.api.requests()
        #expect(requests.allSatisfy { $0.method == "GET" }, "\(requests.map { "\($0.method) \($0.path)" })")

        // A new commit: pushed, and nothing else about the pull request changes.
        try await world.commit("banner.css", "Style the banner")
        try await world.api.clearRequests()
        let third = try await world.run(["pr", "--json"])
        #expect(third.status == 0, "\(third.errorOutput)")
        let document = try json(third)
        #expect(document["action"] as? String == "existing" && document["number"] as? Int == 1 && document["url"] as? String == url)
        #expect(document["head"] as? String == "add-banner" && document["base"] as? String == "new_features")
        #expect(document["state"] as? String == "open" && document["draft"] as? Bool == false)
        #expect(document["createdAt"] is String && document["updatedAt"] is String)
        #expect(Set(document.keys) == ["action", "number", "url", "state", "title", "head", "base", "draft", "createdAt", "updatedAt",
                                       "reviewersRequested", "push"])
        let help = try await world.run(["pr", "--help"])
        for key in document.keys { #expect(help.output.contains(key), "pr --help does not mention \(key)") }
        let push = document["push"] as? [String: Any] ?? [:]
        #expect(push["updated"] as? Bool == true && push["commits"] as? Int == 1)
        #expect(try await world.bareTip("add-banner") == (try await world.origin.git(["-C", world.workspace, "rev-parse", "HEAD"])))
        requests = try await world.api.requests()
        #expect(requests.allSatisfy { $0.method == "GET" })

        // --title changes the open one (PATCH, title only).
        let retitled = try await world.run(["pr", "--title", "Home page banner", "--reviewer", "grace"])
        #expect(retitled.status == 0, "\(retitled.errorOutput)")
        #expect(retitled.errorOutput.contains("updated its title; review requested from grace."))
        requests = try await world.api.requests()
        let patch = try #require(requests.first { $0.method == "PATCH" })
        #expect(patch.path == "/repos/acme/nuvola/pulls/1" && patch.body["title"] as? String == "Home page banner" && patch.body["body"] == nil)
        #expect(requests.contains { $0.method == "POST" && $0.path == "/repos/acme/nuvola/pulls/1/requested_reviewers" })
        let pulls = try await world.api.requests().filter { $0.method == "POST" && $0.path == "/repos/acme/nuvola/pulls" }
        #expect(pulls.isEmpty)
        // A reviewer GitHub refuses (here the author) is a warning: the pull request stays as it is.
        let author = try await world.run(["pr", "--reviewer", "ada"])
        #expect(author.status == 0 && author.output == url + "\n")
        #expect(author.errorOutput.contains("warning: pull request #1 is open, but asking ada to review failed: GitHub refused the request: "
            + "Reviews may only be requested from collaborators."), "\(author.errorOutput)")

        // Status: reviews, mergeability, statuses and check runs of the head commit.
        let head = try await world.origin.git(["-C", world.workspace, "rev-parse", "HEAD"])
        try await world.api.api("POST", "/repos/acme/nuvola/statuses/\(head)", token: Self.token,
                                json: ["state": "success", "context": "ci/lint", "description": "no warnings"])
        try await world.api.api("POST", "/repos/acme/nuvola/check-runs", token: Self.token,
                                json: ["name": "tests", "head_sha": head, "status": "completed", "conclusion": "failure",
                                       "output": ["title": "2 tests failed"]])
        try await world.api.api("POST", "/repos/acme/nuvola/check-runs", token: Self.token,
                                json: ["name": "deploy-preview", "head_sha": head, "status": "in_progress"])
        try await world.api.api("POST", "/repos/acme/nuvola/pulls/1/reviews", token: Self.token,
                                json: ["event": "REQUEST_CHANGES", "user": "grace", "body": "rename it"])
        let status = try await world.run(["pr", "status"])
        #expect(status.status == 0, "\(status.errorOutput)")
        #expect(status.output.hasPrefix("#1 Home page banner\nurl        \(url)\nstate      open — add-banner → new_features\n"))
        #expect(status.output.contains("review     changes requested (grace changes requested, grace requested)"))
        #expect(status.output.contains("mergeable  yes [clean]"))
        #expect(status.output.contains("checks     1 passed, 1 failed, 1 pending\n"))
        #expect(status.output.contains("           passed  ci/lint: no warnings\n"))
        #expect(status.output.contains("           FAILED  tests: 2 tests failed\n"))
        #expect(status.output.contains("           pending deploy-preview (in progress)"))
        let statusJSON = try json(try await world.run(["pr", "status", "--json"]))
        let pull = statusJSON["pullRequest"] as? [String: Any] ?? [:]
        #expect(pull["reviewDecision"] as? String == "changes_requested" && pull["mergeable"] as? Bool == true)
        #expect(statusJSON["combinedStatus"] as? String == "success")
        #expect((statusJSON["checks"] as? [[String: Any]])?.map { $0["name"] as? String } == ["ci/lint", "tests", "deploy-preview"])

        // Branch list: ahead/behind against origin/new_features, upstream, pull request.
        let list = try json(try await world.run(["branch", "list", "--json"]))
        let branches = Dictionary(uniqueKeysWithValues: (list["branches"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0) })
        #expect(Set(branches.keys) == ["add-banner", "new_features"])
        #expect(branches["add-banner"]?["ahead"] as? Int == 2 && branches["add-banner"]?["behind"] as? Int == 0)
        #expect(branches["add-banner"]?["current"] as? Bool == true)
        #expect(branches["add-banner"]?["upstream"] as? String == "origin/add-banner")
        #expect((branches["add-banner"]?["pullRequest"] as? [String: Any])?["number"] as? Int == 1)
        #expect(branches["new_features"]?["pullRequest"] == nil && list["pullRequestsProblem"] == nil)
        let text = try await world.run(["branch", "list"])
        #expect(text.output.contains("* add-banner") && text.output.contains("#1 \(url)"), "\(text.output)")
    }

    @Test func refusalsNameTheNextCommand() async throws {
        let world = try await world()
        defer { world.done() }
        try "draft\n".write(toFile: world.workspace + "/notes.txt", atomically: true, encoding: .utf8)
        let dirty = try await world.run(["pr"])
        #expect(dirty.status == 1)
        #expect(dirty.errorOutput == "error: 1 uncommitted change(s) (notes.txt) would not be part of the pull request. Commit them "
            + "(`git add -A && git commit`), or add --allow-dirty to go on without them.\n")
        #expect(try await world.api.requests().isEmpty)
        let allowed = try await world.run(["pr", "--allow-dirty"])
        #expect(allowed.status == 0, "\(allowed.errorOutput)")
        #expect(allowed.errorOutput.contains("warning: 1 uncommitted change(s) (notes.txt) are not part of the pull request."))
        try FileManager.default.removeItem(atPath: world.workspace + "/notes.txt")

        try await world.origin.git(["-C", world.workspace, "checkout", "--quiet", "new_features"])
        for command in [["pr"], ["push"]] {
            let shared = try await world.run(command)
            #expect(shared.status == 1)
            #expect(shared.errorOutput.hasPrefix("error: you are on new_features, the integration branch: pull requests go into it, not "
                + "from it. Start a feature branch: `devbox branch start <topic>`"), "\(shared.errorOutput)")
        }
        try await world.origin.git(["-C", world.workspace, "checkout", "--quiet", "-b", "main", "origin/main"])
        let production = try await world.run(["push"])
        #expect(production.errorOutput.hasPrefix("error: you are on main, the production branch: work never goes out from it."))
        try await world.origin.git(["-C", world.workspace, "checkout", "--quiet", "--detach"])
        let detached = try await world.run(["pr"])
        #expect(detached.status == 1 && detached.errorOutput.hasPrefix("error: HEAD is detached (not on a branch)"))
        #expect(detached.errorOutput.contains("`devbox branch start <topic>`"))
        try await world.origin.git(["-C", world.workspace, "checkout", "--quiet", "new_features"])
        #expect(try await world.run(["branch", "start", "empty-topic"]).status == 0)
        let empty = try await world.run(["pr", "--json"])
        #expect(empty.status == 1)
        #expect(empty.errorOutput == "error: empty-topic has no commits that origin/new_features lacks, so there is nothing to propose. "
            + "Commit your work first (`git add -A && git commit`), then run `devbox pr` again.\n")
        #expect((try json(empty)["error"] as? [String: Any])?["type"] as? String == "ContributionError")
        let usage = try await world.run(["pr", "--body", "x", "--body-file", "y"])
        #expect(usage.status == 2 && usage.errorOutput.contains("give --body or --body-file, not both."))
        let none = try await world.run(["pr", "status"])
        #expect(none.status == 0 && none.output == "No pull request for empty-topic yet; `devbox pr` pushes it and opens one.\n")

        // A branch made from production would bring production's commits along: said, not refused.
        try await world.origin.git(["-C", world.origin.seed, "checkout", "--quiet", "main"])
        try await world.origin.commit("hotfix.txt", "hotfix\n", "a production hotfix")
        try await world.origin.git(["-C", world.origin.seed, "push", "--quiet", "origin", "main"])
        #expect(try await world.run(["branch", "start", "refresh-origin"]).status == 0)
        try await world.origin.git(["-C", world.workspace, "checkout", "--quiet", "-b", "from-production", "origin/main"])
        try await world.commit("fix.txt", "Fix on top of production")
        let fromProduction = try await world.run(["pr"])
        #expect(fromProduction.status == 0, "\(fromProduction.errorOutput)")
        #expect(fromProduction.errorOutput.contains("warning: On from-production, which carries 1 commit(s) from origin/main that new_features "
            + "lacks; a pull request would bring them along. Rebase your own commits: `git rebase --onto origin/new_features origin/main "
            + "from-production`."), "\(fromProduction.errorOutput)")
    }

    @Test func wrongTokensAreExplainedByTheirSourceAndNeverShown() async throws {
        // The API accepts another token than git: git's push works, the API says no.
        let world = try await world(apiToken: "ghp_other-api-token")
        defer { world.done() }
        let local = try await world.origin.git(["-C", world.workspace, "rev-parse", "HEAD"])
        let wrong = try await world.run(["push"], ["GH_TOKEN": "", "DEVBOX_GIT_TOKEN": "ghp_not-the-right-one"])
        #expect(wrong.status == 1)
        #expect(wrong.errorOutput.hasPrefix("error: \(world.git.url("/origin.git")) refused the token from DEVBOX_GIT_TOKEN (user "
            + "x-access-token); it is wrong, expired or lacks push access, and devbox pushed nothing and your branch is unchanged."),
            "\(wrong.errorOutput)")
        #expect(!wrong.errorOutput.contains("ghp_not-the-right-one"))
        #expect(try await world.origin.git(["-C", world.workspace, "rev-parse", "HEAD"]) == local)
        #expect(try await world.origin.git(["-C", world.origin.bare, "branch", "--list", "add-banner"]) == "")

        let file = world.origin.directory.file(".config/devbox/git-token")
        try FileManager.default.createDirectory(atPath: world.origin.directory.file(".config/devbox"), withIntermediateDirectories: true)
        try SecretFile.write(Self.token + "\n", to: file)
        let api = try await world.run(["pr"], ["GH_TOKEN": ""])
        #expect(api.status == 1)
        #expect(api.errorOutput.contains("Pushed the new branch add-banner"))
        #expect(api.errorOutput.contains("error: GitHub refused the token from ~/.config/devbox/git-token while listing pull requests "
            + "(HTTP 401: Bad credentials): it is wrong, expired or revoked."), "\(api.errorOutput)")
        #expect(!api.errorOutput.contains(Self.token) && !api.output.contains(Self.token))
    }

    @Test func forceWithLeaseIsRefusedWhenTheRemoteMoved() async throws {
        let world = try await world()
        defer { world.done() }
        let pushed = try await world.run(["push", "--json"])
        #expect(pushed.status == 0, "\(pushed.errorOutput)")
        #expect(try json(pushed)["upstreamSet"] as? Bool == true)
        let again = try await world.run(["push"])
        #expect(again.output.hasPrefix("origin already has add-banner at "))

        // A teammate pushes to add-banner; we amend ours without fetching.
        let other = world.origin.directory.file("teammate")
        try await world.origin.git(["clone", "--quiet", "--branch", "add-banner", world.origin.bare, other])
        try await world.origin.commit("theirs.txt", "theirs\n", "their fix", in: other)
        try await world.origin.git(["-C", other, "push", "--quiet", "origin", "add-banner"])
        let theirs = try await world.bareTip("add-banner")
        try await world.origin.git(["-C", world.workspace, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit",
                                    "--quiet", "--amend", "-m", "Add a banner, reworded"])
        let plain = try await world.run(["push"])
        #expect(plain.status == 1)
        #expect(plain.errorOutput.hasPrefix("error: origin's add-banner has commits your add-banner lacks"))
        #expect(plain.errorOutput.contains("`git pull --rebase origin add-banner`") && plain.errorOutput.contains("`devbox push --force-with-lease`"))
        let lease = try await world.run(["push", "--force-with-lease"])
        #expect(lease.status == 1)
        #expect(lease.errorOutput.hasPrefix("error: --force-with-lease refused: the remote branch is now at \(theirs.prefix(7)), not the "),
                "\(lease.errorOutput)")
        #expect(try await world.bareTip("add-banner") == theirs)

        // Once their commit is fetched and ours rebased on it, the lease holds.
        let askpass = world.origin.directory.file("askpass")
        try "#!/bin/sh\ncase \"$1\" in Username*) echo x-access-token;; *) echo \"$PR_TEST_TOKEN\";; esac\n"
            .write(toFile: askpass, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: askpass)
        let fetched = try await ChildProcess.run("git", ["-C", world.workspace, "fetch", "--quiet", "origin"], environment: [
            "PATH": "/usr/bin:/bin", "HOME": world.origin.directory.path, "GIT_ASKPASS": askpass, "PR_TEST_TOKEN": Self.token,
            "GIT_TERMINAL_PROMPT": "0"])
        #expect(fetched.succeeded, "\(fetched.errorOutput)")
        try await world.origin.git(["-C", world.workspace, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "rebase",
                                    "--quiet", "origin/add-banner"])
        let forced = try await world.run(["push", "--force-with-lease"])
        #expect(forced.status == 0, "\(forced.errorOutput)")
        #expect(try await world.bareTip("add-banner") == (try await world.origin.git(["-C", world.workspace, "rev-parse", "HEAD"])))

        // A branch that followed origin/new_features follows what it was pushed to afterwards, as with `git push -u`.
        try await world.origin.git(["-C", world.workspace, "checkout", "--quiet", "-b", "tracking-topic", "--track", "origin/new_features"])
        try await world.commit("tracked.txt", "A tracked topic")
        let tracked = try await world.run(["push"])
        #expect(tracked.status == 0 && tracked.output.hasSuffix("; it now tracks origin/tracking-topic.\n"), "\(tracked.output)")
        #expect(try await world.origin.git(["-C", world.workspace, "rev-parse", "--abbrev-ref", "tracking-topic@{upstream}"]) == "origin/tracking-topic")
    }

    @Test func rateLimitsWaitOrExplainAndValidationIsOneSentence() async throws {
        let world = try await world()
        defer { world.done() }
        try await world.api.fail(path: "/pulls$", method: "GET", status: 429, headers: ["retry-after": "1"],
                                 body: ["message": "You have exceeded a secondary rate limit."])
        let waited = try await world.run(["pr"])
        #expect(waited.status == 0, "\(waited.errorOutput)")
        #expect(waited.errorOutput.contains("GitHub's secondary rate limit: waiting 1 s before listing pull requests, as GitHub asks"))

        let reset = Int(Date().timeIntervalSince1970) + 1800
        try await world.api.fail(path: "/pulls$", status: 403, headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "\(reset)"],
                                 body: ["message": "API rate limit exceeded"])
        let limited = try await world.run(["pr"])
        #expect(limited.status == 1)
        // 30 min, less however long this loaded machine took to get there.
        #expect(limited.errorOutput.contains("error: GitHub's primary rate limit stops listing pull requests for "))
        #expect(limited.errorOutput.contains(" min (until "))
        #expect(limited.errorOutput.contains("devbox changed nothing. Run the command again then."))

        try await world.commit("second.txt", "Second topic")
        try await world.origin.git(["-C", world.workspace, "checkout", "--quiet", "-b", "other-topic"])
        try await world.api.fail(path: "/pulls$", method: "POST", status: 422, body: [
            "message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
            "errors": [["resource": "PullRequest", "code": "custom", "message": "Base branch was modified. Review and try the merge again."]],
        ])
        let invalid = try await world.run(["pr"])
        #expect(invalid.status == 1)
        #expect(invalid.errorOutput.hasSuffix("error: Base branch was modified. Review and try the merge again.\n"), "\(invalid.errorOutput)")

        try await world.api.fail(path: "/pulls$", method: "GET", status: 502, body: ["message": "Server Error"], count: 2)
        let down = try await world.run(["pr", "status"])
        #expect(down.status == 1 && down.errorOutput.contains("GitHub failed while listing pull requests (HTTP 502: Server Error)"))
    }

    @Test func unreachableAndMissingRemotesAreExplainedAndNothingIsLost() async throws {
        let world = try await world()
        defer { world.done() }
        let local = try await world.origin.git(["-C", world.workspace, "rev-parse", "HEAD"])
        let closed = "http://127.0.0.1:\(freePort())/origin.git"
        try await world.origin.git(["-C", world.workspace, "remote", "set-url", "origin", closed])
        let offline = try await world.run(["push"])
        #expect(offline.status == 1)
        #expect(offline.errorOutput.hasPrefix("error: cannot push add-banner to \(closed): failed to connect to 127.0.0.1: Connection refused; "
            + "devbox pushed nothing and your branch is unchanged."), "\(offline.errorOutput)")
        let missing = world.git.url("/nothing-here.git")
        try await world.origin.git(["-C", world.workspace, "remote", "set-url", "origin", missing])
        let absent = try await world.run(["push"])
        #expect(absent.status == 1)
        #expect(absent.errorOutput.hasPrefix("error: \(missing) has no repository there (HTTP 404), or the token from GH_TOKEN may not see it; "
            + "devbox pushed nothing and your branch is unchanged. Check origin's URL (`git -C \(world.workspace) remote -v`)"), "\(absent.errorOutput)")
        #expect(try await world.origin.git(["-C", world.workspace, "rev-parse", "HEAD"]) == local)
        #expect(try await world.origin.git(["-C", world.workspace, "status", "--porcelain"]) == "")

        // GitHub unreachable: the push happened, the error says what failed.
        try await world.origin.git(["-C", world.workspace, "remote", "set-url", "origin", world.git.url("/origin.git")])
        let noAPI = try await world.run(["pr"], ["GITHUB_API_URL": "http://127.0.0.1:\(freePort())"])
        #expect(noAPI.status == 1)
        #expect(noAPI.errorOutput.contains("Pushed the new branch add-banner"))
        #expect(noAPI.errorOutput.contains("error: cannot reach GitHub's API at http://127.0.0.1:"), "\(noAPI.errorOutput)")
        let unknown = try await world.run(["pr"], ["DEVBOX_GITHUB_REPOSITORY": "acme/elsewhere"])
        #expect(unknown.status == 1)
        #expect(unknown.errorOutput.contains("error: GitHub has no repository acme/elsewhere that the token from GH_TOKEN can see"))
    }

    @Test func aRemoteThatRefusesThePushIsQuoted() async throws {
        let world = try await world()
        defer { world.done() }
        let hook = world.origin.bare + "/hooks/pre-receive"
        try "#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/add-banner.' >&2\nexit 1\n"
            .write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let refused = try await world.run(["pr"])
        #expect(refused.status == 1)
        #expect(refused.errorOutput.hasSuffix("error: \(world.git.url("/origin.git")) refused the push of add-banner: pre-receive hook declined "
            + "(it said: GH006: Protected branch update failed for refs/heads/add-banner.). A protected branch or a server-side hook said "
            + "no; devbox pushed nothing and your branch is unchanged. Ask the repository's admin, or push under another branch name.\n"),
            "\(refused.errorOutput)")
        #expect(try await world.api.requests().filter { $0.method == "POST" }.isEmpty)
    }

    @Test func theTokenReachesNoArgvNoOutputNoConfigAndNoURL() async throws {
        let world = try await world()
        defer { world.done() }
        let trace = world.origin.directory.file("execve.trace")
        var environment = ["PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERM": "dumb", "AWS_EC2_METADATA_DISABLED": "true"]
        environment.merge(world.environment) { _, new in new }
        // Every program devbox starts, with its whole argv (-s: strings untruncated).
        let result = try await ChildProcess.run("/usr/bin/strace", ["-f", "-qq", "-s", "4096", "-e", "trace=execve,execveat", "-o", trace,
                                                                  BuildProducts.executable("devbox").path, "pr", "--json"],
                                                environment: environment, timeout: .seconds(60))
        #expect(result.status == 0, "\(result.errorOutput)")
        let calls = try String(contentsOfFile: trace, encoding: .utf8)
        #expect(calls.contains("execve(\"\(BuildProducts.executable("devbox").path)\""))
        #expect(!calls.contains(Self.token))
        for text in [result.output, result.errorOutput, try String(contentsOfFile: world.workspace + "/.git/config", encoding: .utf8),
                     try await world.origin.git(["-C", world.workspace, "remote", "-v"])] {
            #expect(!text.contains(Self.token))
        }
        #expect(try await world.origin.git(["-C", world.workspace, "remote", "get-url", "origin"]) == world.git.url("/origin.git"))
        let requests = try await world.api.requests()
        #expect(!requests.isEmpty && requests.allSatisfy { !$0.path.contains(Self.token) && !$0.query.values.contains { $0.contains(Self.token) } })
    }
}
