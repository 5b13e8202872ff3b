import CommandSupport
import DevboxKit
import Foundation
import HTTP
import Nuvola
import Terminal

/// What every devbox command starts from: the environment, the merged config (with the
/// command's own flags on top), where output goes, and one HTTP client.
struct DevboxContext {
    let environment: [String: String]
    let paths: DevboxPaths
    let config: DevboxConfig
    let console: Console
    let http: HTTPClient

    init(json: Bool = false, flags: [String: (flag: String, value: String)] = [:]) throws {
        environment = ProcessInfo.processInfo.environment
        paths = DevboxPaths(environment: environment)
        config = try DevboxConfig.load(paths: paths, environment: environment, flags: flags)
        console = Console.standard(format: json ? .json : .text, environment: environment)
        http = HTTPClient(userAgent: "devbox/\(ToolVersion.number)")
        for warning in config.warnings { console.warning(warning) }
    }

    var workspace: Workspace { Workspace(config: config, environment: environment) }

    var contribution: Contribution {
        Contribution(workspace: workspace, config: config, environment: environment, http: http, console: console)
    }

    func localApp() async throws -> LocalApp {
        try await LocalApp.prepare(config: config, environment: environment, http: http)
    }
}
