import Foundation
import Git
import HTTP

/// `devbox status`: the branch check and each container, in one document.
public struct StatusReport: Sendable, Encodable {
    public var workspace: String
    public var branch: String?
    public var integrationBranch: String
    public var ahead: Int
    public var behind: Int
    public var dirty: Bool
    public var changes: [String]
    public var check: BranchCheck
    public var containers: [ServiceState]
    /// Why containers could not be read (engine down), nil when they could.
    public var containersProblem: String?
    public var url: String

    /// Reads everything locally (no fetch), so it answers in milliseconds.
    public static func gather(workspace: Workspace, config: DevboxConfig, environment: [String: String],
                              http: HTTPClient) async throws -> StatusReport {
        let check = try workspace.branchCheck()
        var containers: [ServiceState] = []
        var problem: String?
        if let engine = ContainerEngine.detect(environment: environment) {
            do {
                containers = try await engine.services(ofProject: config.composeProject, http: http)
            } catch {
                problem = "\(error)"
            }
        } else {
            problem = "no container engine is installed"
        }
        return StatusReport(workspace: workspace.path, branch: check.branch, integrationBranch: check.integrationBranch,
                            ahead: check.ahead, behind: check.behind, dirty: !check.dirty.isEmpty, changes: check.dirty,
                            check: check, containers: containers, containersProblem: problem,
                            url: "http://127.0.0.1:\(config.httpPort)/")
    }

    public func render() -> String {
        var lines = ["workspace  \(workspace)", "branch     \(check.summary)"]
        if let containersProblem {
            lines.append("containers unknown: \(containersProblem)")
        } else if containers.isEmpty {
            lines.append("containers none (run `devbox up`)")
        } else {
            for (index, state) in containers.enumerated() {
                lines.append((index == 0 ? "containers " : "           ") + "\(state.service): \(state.summary)")
            }
            if containers.allSatisfy(\.isReady) { lines.append("app        \(url)") }
        }
        return lines.joined(separator: "\n")
    }
}
