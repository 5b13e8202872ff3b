import Foundation
import GitHub
import HTTP
import Synchronization
import Testing
import TestSupport

/// The GitHub client against the stand-in API (Tests/TestSupport/Fixtures/github_api.py), which
/// checks pull requests against a real bare repository and records every request.
@Suite struct GitHubClientTests {
    static let token = "ghp_client-test-token-123"

    struct Setup {
        let origin: GitOrigin
        let api: GitHubStandIn
        let waits = Waits()
        /// The clock the client reads: fixed, so the waits it computes from `x-ratelimit-reset` are exact.
        static let now = Date(timeIntervalSince1970: 1_900_000_000)

        func client(token: GitHubToken? = GitHubToken(value: GitHubClientTests.token, source: "GH_TOKEN"),
                    maxWait: Duration = .seconds(60), pageSize: Int = 100) -> GitHubClient {
            let waits = self.waits
            return GitHubClient(http: HTTPClient(environment: [:]), baseURL: api.url + "/", repository: GitHubRepository(owner: "acme", name: "nuvola"),
                                token: token, maxWait: maxWait, sleep: { duration in waits.append(duration) }, now: { Setup.now },
                                pageSize: pageSize)
        }

        func done() {
            api.stop()
            origin.directory.remove()
        }
    }

    /// The waits the client asked for (the tests sleep for none of them).
    final class Waits: Sendable {
        private let list = Mutex<[Duration]>([])
        func append(_ duration: Duration) { list.withLock { $0.append(duration) } }
        func withLock<T>(_ body: ([Duration]) -> T) -> T { list.withLock { body($0) } }
    }

    func setup() async throws -> Setup {
        let origin = try await GitOrigin()
        try await origin.git(["-C", origin.seed, "checkout", "--quiet", "-b", "add-banner", "new_features"])
        try await origin.commit("banner.txt", "banner\n", "Add a banner")
        try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "add-banner"])
        let api = try await GitHubStandIn.start(token: Self.token, repositories: ["acme/nuvola": origin.bare])
        return Setup(origin: origin, api: api)
    }

    @Test func createsAndListsPullRequestsWithGitHubsHeaders() async throws {
        let setup = try await setup()
        defer { setup.done() }
        let client = setup.client()
        let created = try await client.createPullRequest(NewPullRequest(title: "Add a banner", head: "add-banner", base: "new_features",
                                                                        body: "Shows it.", draft: true))
        #expect(created.number == 1 && created.state == "open" && created.draft == true)
        #expect(created.head.ref == "add-banner" && created.base.ref == "new_features")
        #expect(created.htmlURL == setup.api.url + "/acme/nuvola/pull/1")
        let open = try await client.pullRequests(head: "add-banner")
        #expect(open.map(\.number) == [1])
        #expect(try await client.pullRequests(head: "other").isEmpty)

        let requests = try await setup.api.requests()
        let post = try #require(requests.first { $0.method == "POST" })
        #expect(post.path == "/repos/acme/nuvola/pulls")
        #expect(post.body["base"] as? String == "new_features" && post.body["head"] as? String == "add-banner")
        #expect(post.headers["authorization"] == "Bearer \(Self.token)")
        #expect(post.headers["accept"] == "application/vnd.github+json")
        #expect(post.headers["x-github-api-version"] == "2022-11-28")
        #expect(post.headers["content-type"] == "application/json")
        let list = try #require(requests.last)
        #expect(list.query["head"] == "acme:other" && list.query["state"] == "open")
    }

    @Test func validationErrorsBecomeOneSentence() async throws {
        let setup = try await setup()
        defer { setup.done() }
        let client = setup.client()
        let new = NewPullRequest(title: "Add a banner", head: "add-banner", base: "new_features", body: nil, draft: false)
        _ = try await client.createPullRequest(new)
        let duplicate = await #expect(throws: GitHubError.self) { try await client.createPullRequest(new) }
        #expect(duplicate?.kind == .validation)
        #expect(duplicate?.message == "A pull request for add-banner already exists.")
        let empty = await #expect(throws: GitHubError.self) {
            try await client.createPullRequest(NewPullRequest(title: "x", head: "main", base: "new_features", body: nil, draft: false))
        }
        #expect(empty?.message == "No commits between new_features and main.")
        let missing = await #expect(throws: GitHubError.self) {
            try await client.createPullRequest(NewPullRequest(title: "x", head: "nope", base: "new_features", body: nil, draft: false))
        }
        #expect(missing?.message == "PullRequest.head is invalid.")
    }

    @Test func followsLinkPagination() async throws {
        let setup = try await setup()
        defer { setup.done() }
        let client = setup.client()
        for number in 1...3 {
            try await setup.origin.git(["-C", setup.origin.seed, "checkout", "--quiet", "-b", "topic-\(number)", "new_features"])
            try await setup.origin.commit("t\(number).txt", "\(number)\n", "topic \(number)")
            try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "topic-\(number)"])
            _ = try await client.createPullRequest(NewPullRequest(title: "t\(number)", head: "topic-\(number)", base: "new_features", body: nil, draft: false))
        }
        try await setup.api.clearRequests()
        #expect(GitHubClient.nextLink("<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=5>; rel=\"last\"")
            == "https://api.github.com/x?page=2")
        #expect(GitHubClient.nextLink("<https://api.github.com/x?page=1>; rel=\"prev\"") == nil)
        // Two per page: the second page comes from the first's Link header.
        let all = try await setup.client(pageSize: 2).pullRequests()
        #expect(all.map(\.number) == [3, 2, 1])
        let pages = try await setup.api.requests().filter { $0.path == "/repos/acme/nuvola/pulls" }
        #expect(pages.map { $0.query["page"] } == [nil, "2"])
        #expect(pages.allSatisfy { $0.headers["authorization"] == "Bearer \(Self.token)" })
    }

    @Test func aShortRateLimitIsWaitedOutAndALongOneExplained() async throws {
        let setup = try await setup()
        defer { setup.done() }
        let client = setup.client()
        let reset = Int(Setup.now.timeIntervalSince1970) + 5
        try await setup.api.fail(path: "/pulls$", status: 403, headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "\(reset)"],
                                 body: ["message": "API rate limit exceeded for user ID 1."])
        try await setup.api.fail(path: "/pulls$", status: 429, headers: ["retry-after": "2"],
                                 body: ["message": "You have exceeded a secondary rate limit."])
        let pulls = try await client.pullRequests()
        #expect(pulls.isEmpty)
        let waits = setup.waits.withLock { $0 }
        #expect(waits.count == 2)
        #expect(waits.first == .seconds(5))
        #expect(waits.last == .seconds(2))
        #expect(try await setup.api.requests().filter { $0.path.hasSuffix("/pulls") }.count == 3)

        let far = Int(Setup.now.timeIntervalSince1970) + 3600
        try await setup.api.fail(path: "/pulls$", status: 403, headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "\(far)"])
        let limited = await #expect(throws: GitHubError.self) { try await client.pullRequests() }
        #expect(limited?.kind == .rateLimited)
        #expect(limited?.message == "GitHub's primary rate limit stops listing pull requests for 60 min (until 18:46 UTC); devbox changed "
            + "nothing. Run the command again then.")
        #expect(setup.waits.withLock { $0.count } == 2)

        try await setup.api.fail(path: "/pulls$", status: 429, headers: ["retry-after": "600"])
        let secondary = await #expect(throws: GitHubError.self) { try await client.pullRequests() }
        #expect(secondary?.message.hasPrefix("GitHub's secondary rate limit stops listing pull requests for 10 min") == true)
    }

    @Test func credentialFailuresNameTheSourceNeverTheValue() async throws {
        let setup = try await setup()
        defer { setup.done() }
        let wrong = setup.client(token: GitHubToken(value: "ghp_wrong-value", source: "~/.config/devbox/git-token"))
        let refused = await #expect(throws: GitHubError.self) { try await wrong.pullRequests() }
        #expect(refused?.kind == .unauthorized)
        #expect(refused?.message.hasPrefix("GitHub refused the token from ~/.config/devbox/git-token while listing pull requests (HTTP 401: Bad credentials)") == true)
        #expect(refused?.message.contains("ghp_wrong-value") == false)
        let none = await #expect(throws: GitHubError.self) { try await setup.client(token: nil).pullRequests() }
        #expect(none?.message.hasPrefix("GitHub needs a token for listing pull requests and devbox has none.") == true)
        #expect("\(GitHubToken(value: "ghp_wrong-value", source: "GH_TOKEN"))" == "the token from GH_TOKEN")
        var dumped = ""
        dump(GitHubToken(value: "ghp_wrong-value", source: "GH_TOKEN"), to: &dumped)
        #expect(!dumped.contains("ghp_wrong-value"))

        let elsewhere = GitHubClient(http: HTTPClient(environment: [:]), baseURL: setup.api.url, repository: GitHubRepository(owner: "acme", name: "gone"),
                                     token: GitHubToken(value: Self.token, source: "GH_TOKEN"))
        let notFound = await #expect(throws: GitHubError.self) { try await elsewhere.pullRequests() }
        #expect(notFound?.kind == .notFound)
        #expect(notFound?.message.hasPrefix("GitHub has no repository acme/gone that the token from GH_TOKEN can see") == true)
    }

    @Test func serverErrorsAreRetriedOnceForReadsThenExplained() async throws {
        let setup = try await setup()
        defer { setup.done() }
        let client = setup.client()
        try await setup.api.fail(path: "/pulls$", status: 502, body: ["message": "Server Error"])
        #expect(try await client.pullRequests().isEmpty)
        try await setup.api.fail(path: "/pulls$", status: 503, body: ["message": "Unavailable"], count: 2)
        let failed = await #expect(throws: GitHubError.self) { try await client.pullRequests() }
        #expect(failed?.kind == .server(503))
        #expect(failed?.message.hasPrefix("GitHub failed while listing pull requests (HTTP 503: Unavailable)") == true)
        // A POST is never resent: it may have taken effect.
        try await setup.api.fail(path: "/pulls$", method: "POST", status: 502)
        let post = await #expect(throws: GitHubError.self) {
            try await client.createPullRequest(NewPullRequest(title: "x", head: "add-banner", base: "new_features", body: nil, draft: false))
        }
        #expect(post?.kind == .server(502))
        #expect(try await client.pullRequests().isEmpty)

        let unreachable = GitHubClient(http: HTTPClient(environment: [:]), baseURL: "http://127.0.0.1:\(freePort())",
                                       repository: GitHubRepository(owner: "acme", name: "nuvola"), token: nil)
        let network = await #expect(throws: GitHubError.self) { try await unreachable.pullRequests() }
        #expect(network?.kind == .network)
    }

    @Test func statusesAndCheckRunsAsGitHubDescribesThem() async throws {
        let setup = try await setup()
        defer { setup.done() }
        let client = setup.client()
        let sha = try await setup.origin.git(["-C", setup.origin.bare, "rev-parse", "add-banner"])
        let none = try await client.combinedStatus(sha)
        #expect(none.state == "pending" && none.totalCount == 0 && none.statuses.isEmpty)
        try await setup.api.api("POST", "/repos/acme/nuvola/statuses/\(sha)", token: Self.token,
                                json: ["state": "success", "context": "ci/lint", "description": "clean"])
        try await setup.api.api("POST", "/repos/acme/nuvola/statuses/\(sha)", token: Self.token,
                                json: ["state": "failure", "context": "ci/test", "description": "2 failed"])
        try await setup.api.api("POST", "/repos/acme/nuvola/check-runs", token: Self.token,
                                json: ["name": "build", "head_sha": sha, "status": "completed", "conclusion": "success",
                                       "output": ["title": "Built", "summary": "ok"]])
        let status = try await client.combinedStatus(sha)
        #expect(status.state == "failure" && status.totalCount == 2)
        #expect(Set(status.statuses.map(\.context)) == ["ci/lint", "ci/test"])
        let runs = try await client.checkRuns(sha)
        #expect(runs.map(\.name) == ["build"] && runs.first?.conclusion == "success" && runs.first?.output?.title == "Built")
    }

    @Test func repositoryNamesFromRemoteURLs() {
        #expect(GitHubRepository(remoteURL: "https://github.com/acme/nuvola.git") == GitHubRepository(owner: "acme", name: "nuvola"))
        #expect(GitHubRepository(remoteURL: "git@github.com:acme/nuvola.git") == GitHubRepository(owner: "acme", name: "nuvola"))
        #expect(GitHubRepository(remoteURL: "ssh://git@github.example.com/acme/nuvola") == GitHubRepository(owner: "acme", name: "nuvola"))
        #expect(GitHubRepository(remoteURL: "https://x-access-token@github.com/acme/nuvola/") == GitHubRepository(owner: "acme", name: "nuvola"))
        #expect(GitHubRepository(remoteURL: "/srv/git/nuvola.git") == nil)
        #expect(GitHubRepository("acme/nuvola") != nil && GitHubRepository("acme") == nil && GitHubRepository("a/b/c") == nil)
        #expect(GitHubClient.apiURL(environment: [:]) == "https://api.github.com")
        #expect(GitHubClient.apiURL(environment: ["GITHUB_API_URL": "https://ghe.example.com/api/v3"]) == "https://ghe.example.com/api/v3")
    }
}
