import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Nuvola
import Synchronization
import Terminal

/// Which machines, shared by `run`, `cp` and `install`.
struct TargetOptions: ParsableArguments {
    @Flag(help: "Every developer machine (tag Role=devbox). Never app instances.")
    var all = false

    @Option(name: .customLong("dev"), parsing: .upToNextOption, help: ArgumentHelp("These developers' machines (their Owner tag).", valueName: "name"))
    var developers: [String] = []

    @Option(name: .customLong("tag"), help: ArgumentHelp("Only machines with this tag (repeatable; the same key twice means either value).", valueName: "key=value"))
    var tags: [String] = []

    @Option(name: .customLong("instance"), parsing: .upToNextOption, help: ArgumentHelp("These instances, whatever their role.", valueName: "id"))
    var instanceIDs: [String] = []

    @Option(name: .customLong("env"), help: ArgumentHelp("App instances of this environment (Role=app, Env=dev|prod) instead of developer machines.", valueName: "dev|prod"))
    var environment: AppEnvironment?

    @Option(name: .customLong("wait-online"), help: ArgumentHelp("Wait up to this many seconds for offline machines before sending.", valueName: "seconds"))
    var waitOnline: Double?

    func validate() throws {
        // Checked here: an infinite or huge value trapped converting to a deadline once a machine was offline.
        if let waitOnline, !(0...172_800).contains(waitOnline) {
            throw ValidationError("--wait-online takes 0 to 172800 seconds (48 hours), not \(waitOnline)")
        }
    }

    /// Whether any machine was named at all.
    var named: Bool { all || !developers.isEmpty || !tags.isEmpty || !instanceIDs.isEmpty || environment != nil }

    func selection() throws -> FleetSelection {
        let parsed = FleetSelection.parseTags(tags)
        if let problem = parsed.problem { throw ValidationError(problem) }
        let selection = FleetSelection(all: all, developers: developers, tags: parsed.tags, instanceIDs: instanceIDs, environment: environment)
        if let problem = selection.problem { throw ValidationError(problem) }
        return selection
    }
}

extension AppEnvironment: ExpressibleByArgument {}

/// How hard to push, shared by `run`, `cp` and `install`.
struct LimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("At most this many machines (or percent of them) at once (default: all).", valueName: "n|p%"))
    var concurrency: String?

    @Option(name: .customLong("max-errors"), help: ArgumentHelp("Stop sending to more machines once more than this many failed, counted over the whole run (a percentage is of every machine; default: never stop).", valueName: "n|p%"))
    var maxErrors: String?

    @Option(help: ArgumentHelp("Stop a machine's command after this many seconds.", valueName: "seconds"))
    var timeout: Int = 600

    @Option(name: .customLong("delivery-timeout"), help: ArgumentHelp("Give up on machines whose agent has not started the command after this many seconds (at least 30; default: enough for every wave to use --timeout).", valueName: "seconds"))
    var deliveryTimeout: Int?

    @Option(help: ArgumentHelp("S3 bucket for full output and staged files (default: the shared stack's artifacts bucket).", valueName: "name"))
    var bucket: String?

    func validate() throws {
        if let concurrency, let problem = FleetLimits.problem(concurrency, name: "--concurrency", allowsZero: false) { throw ValidationError(problem) }
        if let maxErrors, let problem = FleetLimits.problem(maxErrors, name: "--max-errors", allowsZero: true) { throw ValidationError(problem) }
        if timeout < 1 || timeout > 172_800 { throw ValidationError("--timeout takes 1 to 172800 seconds (48 hours)") }
        if let deliveryTimeout, deliveryTimeout < 30 { throw ValidationError("--delivery-timeout takes at least 30 seconds (Run Command's minimum)") }
    }

    var limits: FleetLimits {
        FleetLimits(concurrency: concurrency, maxErrors: maxErrors, timeoutSeconds: timeout, deliveryTimeoutSeconds: deliveryTimeout)
    }
}

/// The part every fleet command shares: open the session, resolve and report the machines,
/// run with live results, exit with the number of machines that did not succeed.
enum FleetCLI {
    static func open(bucket: String?) async throws -> FleetRun {
        try await FleetSession.open(directory: FileManager.default.currentDirectoryPath, environment: ProcessInfo.processInfo.environment,
                                    http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"), bucket: bucket)
    }

    static func hosts(_ run: FleetRun, _ targets: TargetOptions, console: Console) async throws -> [FleetHost] {
        var hosts = try await run.resolve(try targets.selection())
        if let seconds = targets.waitOnline, hosts.contains(where: { !$0.isOnline }) {
            hosts = try await run.waitOnline(hosts, seconds: seconds) { console.note($0) }
        }
        let unreachable = hosts.filter { !$0.isOnline }
        if !unreachable.isEmpty {
            console.warning("\(unreachable.count) of \(hosts.count) machine(s) cannot be reached and will not be sent the command: "
                + unreachable.map { "\($0.label) (\($0.unreachable ?? "offline"))" }.joined(separator: ", ")
                + ". --wait-online SECONDS waits for them.")
        }
        return hosts
    }

    /// Runs and prints each host as it completes (text), or nothing until the one JSON document.
    static func run(_ fleet: FleetRun, _ command: FleetCommand, hosts: [FleetHost], targets: TargetOptions, limits: LimitOptions,
                    console: Console, live: Bool) async throws -> FleetRunReport {
        let printer = Mutex(HostLine.Printer())
        let policy = console.outColors
        return try await fleet.run(command, on: hosts, selection: try targets.selection(), limits: limits.limits,
                                   onNote: { console.note($0) }, onResult: { result in
            if console.isJSON { return }
            if live {
                let text = printer.withLock { $0.render(result, policy) }
                console.print(text)
            } else {
                console.note("\(result.host.label): \(result.headline)")
            }
        })
    }

    /// Exit status: the number of machines that did not succeed (0 when all did), 130 after Ctrl-C.
    static func finish(_ report: FleetRunReport) throws {
        if report.interrupted { throw ExitCode(130) }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    static let exitStatusHelp = """
        Exit status: 0 when every machine succeeded; otherwise the number of machines that did \
        not (failed, timed out, undeliverable, offline, cancelled), capped at 125. Usage errors \
        exit 2 and come before anything is sent — but a run where exactly 2 machines failed \
        also exits 2: scripts that must tell them apart read --json (its "exitStatus" and \
        "summary"), or check that "commandIds" is not empty. 1 means the run itself could not \
        start (no machine matches, AWS refused); 130 after Ctrl-C.
        """

    static let targetHelp = """
        Machines: --all is every developer machine (tag Role=devbox, set by onboarding); app \
        instances are reached only with --env dev|prod, never by --all. --dev ana bob picks \
        developers by their Owner tag; --tag KEY=VALUE narrows either set; --instance ID names \
        instances exactly. Machines that are stopped, whose agent is offline, or that never \
        registered with Systems Manager are listed before anything is sent and are not sent to \
        (--wait-online SECONDS waits for them).
        """
}
