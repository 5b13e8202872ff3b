import Foundation
import HTTP

/// One service's container as the engine sees it.
public struct ServiceState: Sendable, Encodable, Equatable {
    public var service: String
    public var container: String
    /// created, running, restarting, exited, ...
    public var state: String
    /// healthy, unhealthy, starting, or none when the service has no healthcheck.
    public var health: String
    public var exitCode: Int?
    /// The last healthcheck's output (trimmed), for failure reports.
    public var lastHealthOutput: String?

    public var isReady: Bool { state == "running" && (health == "healthy" || health == "none") }
    public var hasFailed: Bool { state == "exited" || state == "dead" || health == "unhealthy" }

    /// "running, healthy" / "exited (code 1)".
    public var summary: String {
        if state == "exited" || state == "dead" { return "\(state) (code \(exitCode ?? -1))" }
        return health == "none" ? state : "\(state), \(health)"
    }
}

extension ContainerEngine {
    /// The containers of compose project `project` (by the label every compose flavour sets),
    /// one per service (a running one when a service has several). Reading the engine's API
    /// needs no compose process, so `status` stays fast and all flavours report alike.
    public func services(ofProject project: String, http: HTTPClient) async throws -> [ServiceState] {
        let filter = #"{"label":["com.docker.compose.project=\#(project)"]}"#
        let query = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let list = try await engineJSON("/containers/json?all=1&filters=\(query)", http: http) as? [[String: Any]] ?? []
        var states: [String: ServiceState] = [:]
        for summary in list {
            guard let id = summary["Id"] as? String,
                  let labels = summary["Labels"] as? [String: String],
                  let service = labels["com.docker.compose.service"] else { continue }
            let detail = try await engineJSON("/containers/\(id)/json", http: http) as? [String: Any] ?? [:]
            let state = detail["State"] as? [String: Any] ?? [:]
            let health = state["Health"] as? [String: Any]
            let log = (health?["Log"] as? [[String: Any]])?.last
            let output = (log?["Output"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines)
            let entry = ServiceState(service: service, container: String(id.prefix(12)),
                                     state: state["Status"] as? String ?? "unknown",
                                     health: health?["Status"] as? String ?? "none",
                                     exitCode: state["ExitCode"] as? Int, lastHealthOutput: output?.isEmpty == true ? nil : output)
            if states[service] == nil || entry.state == "running" { states[service] = entry }
        }
        return states.values.sorted { $0.service < $1.service }
    }

    /// True when the engine has the image `reference` ("nuvola-app:3f2a...").
    public func hasImage(_ reference: String, http: HTTPClient) async -> Bool {
        (try? await engineJSON("/images/\(reference)/json", http: http)) != nil
    }

    func engineJSON(_ path: String, http: HTTPClient) async throws -> Any {
        let request = HTTPRequest(url: (url ?? "http://localhost") + path, timeouts: HTTPTimeouts(connect: .seconds(3), total: .seconds(10)),
                                  unixSocketPath: socketPath)
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch let error as HTTPError {
            throw ComposeError("the \(kind.rawValue) engine at \(address) does not answer (\(error.summary)). "
                + "Start it (sudo systemctl start \(kind.rawValue)) or point DOCKER_HOST at a running engine; `devbox doctor` checks.")
        }
        guard response.status == 200 else {
            throw ComposeError("the engine answered HTTP \(response.status) to \(path): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: Data(response.body))
    }
}
