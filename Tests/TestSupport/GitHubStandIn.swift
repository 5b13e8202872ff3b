import Foundation
import Host
import HTTP

/// The stand-in GitHub REST API (Fixtures/github_api.py) on loopback: pull requests checked
/// against real bare repositories, statuses, check runs, and a record of every request received.
public final class GitHubStandIn: Sendable {
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/github_api.py").path

    private let server: PythonServer
    public var url: String { server.url("") }

    /// `repositories` maps "owner/name" to a bare repository's path; `token` is the only one accepted.
    public static func start(token: String, repositories: [String: String]) async throws -> GitHubStandIn {
        let arguments = repositories.sorted { $0.key < $1.key }.flatMap { ["--repo", "\($0.key)=\($0.value)"] }
        return GitHubStandIn(server: try await PythonServer.start(script, arguments, firstLine: token))
    }

    private init(server: PythonServer) { self.server = server }

    public func stop() { server.stop() }

    /// One request the stand-in received.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var headers: [String: String]
        /// The JSON body, re-encoded as a dictionary of strings/values.
        public var body: [String: any Sendable]
    }

    public func requests() async throws -> [Request] {
        let data = try await call("GET", "/_standin/requests")
        let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        return list.map { entry in
            Request(method: entry["method"] as? String ?? "", path: entry["path"] as? String ?? "",
                    query: entry["query"] as? [String: String] ?? [:], headers: entry["headers"] as? [String: String] ?? [:],
                    body: (entry["body"] as? [String: Any] ?? [:]).mapValues { Self.sendable($0) })
        }
    }

    public func clearRequests() async throws { _ = try await call("DELETE", "/_standin/requests") }

    /// The next `count` requests whose path matches `path` (a regular expression) get this answer.
    public func fail(path: String, method: String? = nil, status: Int, headers: [String: String] = [:],
                     body: [String: Any] = ["message": "injected"], count: Int = 1) async throws {
        var object: [String: Any] = ["path": path, "status": status, "headers": headers, "body": body, "count": count]
        if let method { object["method"] = method }
        _ = try await call("POST", "/_standin/fail", body: try JSONSerialization.data(withJSONObject: object))
    }

    /// Calls the API as a client would (with `token`), for a test to set up statuses and the like.
    @discardableResult
    public func api(_ method: String, _ path: String, token: String, json: [String: Any]) async throws -> Data {
        try await call(method, path, body: try JSONSerialization.data(withJSONObject: json), token: token)
    }

    func call(_ method: String, _ path: String, body: Data? = nil, token: String? = nil) async throws -> Data {
        var request = HTTPRequest(method: HTTPMethod(rawValue: method), url: url + path, body: body.map { .bytes(Array($0)) } ?? .empty)
        if let token { request.headers.set("Authorization", "Bearer \(token)") }
        request.headers.set("Content-Type", "application/json")
        let response = try await HTTPClient(environment: [:]).send(request)
        return Data(response.body)
    }

    static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let text as String: text
        case let number as NSNumber: number.intValue
        case let list as [Any]: list.map { "\($0)" }
        default: "\(value)"
        }
    }
}
