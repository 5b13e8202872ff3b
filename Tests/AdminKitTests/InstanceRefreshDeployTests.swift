import AdminKit
import AWS
import Foundation
import HTTP
import Host
import Nuvola
import Synchronization
import Terminal
import Testing
import TestSupport

/// `adminctl deploy --refresh`'s engine against the simulated cloud: the shared stack made by
/// `adminctl infra up`, releases built by the release builder from a real repository, the prod
/// group's instances replaced by the simulator's instance refresh, served through its haproxy.
@Suite(.serialized) struct InstanceRefreshDeployTests {
    /// A project with the shared stack up in a simulator of its own at FLEET_TIME_SCALE 0.02
    /// (AWS's 15 s health checks take 0.3 s, the 300 s grace period 6 s).
    struct Cloud {
        let fleet: Fleet
        let directory: TemporaryDirectory
        let origin: GitOrigin
        /// ADMINCTL_* settings every adminctl run of this project gets.
        var settings: [String: String] = [:]
        let name = "r" + String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        var project: String { directory.file("project") }

        static func up(timeScale: Double = 0.02, settings: [String: String] = [:]) async throws -> Cloud {
            let cloud = Cloud(fleet: try await Fleet.start(timeScale: timeScale), directory: try TemporaryDirectory(),
                              origin: try await GitOrigin(), settings: settings)
            for folder in ["project", "home"] {
                try FileManager.default.createDirectory(atPath: cloud.directory.file(folder), withIntermediateDirectories: true)
            }
            let initialised = try await cloud.adminctl(["init", "--yes", "--name", cloud.name, "--region", "eu-west-3",
                                                        "--repo", cloud.origin.bare])
            #expect(initialised.status == 0, "\(initialised.errorOutput)")
            let up = try await cloud.adminctl(["infra", "up", "--yes"])
            #expect(up.status == 0, "\(up.errorOutput)")
            return cloud
        }

        var environment: [String: String] {
            var environment = ["HOME": directory.file("home"), "PATH": "/usr/bin:/bin", "ADMINCTL_POLL_SECONDS": "0.2",
                               "NO_COLOR": "1", "AWS_EC2_METADATA_DISABLED": "true"]
            for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                environment[key] = fleet.environment[key]
            }
            return environment.merging(settings) { $1 }
        }

        func adminctl(_ arguments: [String]) async throws -> ProcessResult {
            try await ChildProcess.run(BuildProducts.executable("adminctl").path, arguments, environment: environment,
                                       directory: project, timeout: .seconds(300))
        }

        func deploy() async throws -> InstanceRefreshDeploy {
            try await InstanceRefreshDeploy.open(.prod, directory: project, processEnvironment: environment,
                                                 http: HTTPClient(environment: [:]))
        }

        func outputs() async throws -> [String: String] {
            try #require(try await CloudFormation(fleet.client()).stack("\(name)-shared")?.outputs)
        }

        /// Commits an app answering `label` at / (and `ok` at /health unless `healthy` is false)
        /// to main and builds it into a prod release.
        func release(_ label: String, healthy: Bool = true) async throws -> Release {
            try FileManager.default.createDirectory(atPath: origin.seed + "/public", withIntermediateDirectories: true)
            // The simulator's router sends every path without a file, /health included, to index.php.
            let page = healthy ? "<?php echo '\(label)';\n" : "<?php http_response_code(503); echo '\(label) is broken';\n"
            try await origin.commit("public/index.php", page, "release \(label)")
            let health = origin.seed + "/public/health"
            if healthy {
                if (try? String(contentsOfFile: health, encoding: .utf8)) != "ok\n" {
                    try await origin.commit("public/health", "ok\n", "health of \(label)")
                }
            } else {
                try await origin.git(["-C", origin.seed, "rm", "--quiet", "--ignore-unmatch", "public/health"])
                try await origin.git(["-C", origin.seed, "-c", "user.name=Seed", "-c", "user.email=s@example.com",
                                      "commit", "--quiet", "--allow-empty", "-m", "no health"])
            }
            try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "main"])
            let releases = try await EnvironmentReleases.open(.prod, directory: project, processEnvironment: environment,
                                                              http: HTTPClient(environment: [:]))
            return try await releases.builder().build(ref: "main", builtBy: "tests").release
        }

        /// The local haproxy URL of the stack's balancer (prod's listener, the lowest port; the
        /// simulator holds only this stack's balancer).
        func balancerURL() async throws -> String {
            let balancers = try #require(try await fleet.status()["loadBalancers"] as? [[String: Any]])
            return try #require(balancers.first?["url"] as? String)
        }

        /// The load generator (Tests/TestSupport/Fixtures/load.py, loopback only) against the
        /// prod listener until stopped.
        func load(threads: Int, rate: Double) async throws -> Load {
            let script = TestEngine.repositoryRoot + "/Tests/TestSupport/Fixtures/load.py"
            let process = try SpawnedProcess.start(TestEngine.repositoryRoot + "/.venv/bin/python",
                                                   [script, try await balancerURL(), "--threads", String(threads),
                                                    "--rate", String(rate), "--seconds", "240"],
                                                   output: .pipe, error: .null, processGroup: true)
            let fd = process.output
            return Load(process: process, output: Task { await SpawnedProcess.readAll(fd) })
        }

        /// What each of the group's instances has as `current`, from its root.
        func currentReleases() async throws -> [String: String] {
            let name = try #require(try await outputs()["ProdAutoScalingGroupName"])
            let group = try #require(try await AutoScaling(fleet.client()).group(name))
            var result: [String: String] = [:]
            for member in group.instances {
                let link = fleet.root(of: member.id) + "/srv/app/current"
                result[member.id] = (try? FileManager.default.destinationOfSymbolicLink(atPath: link))
                    .map { ($0 as NSString).lastPathComponent } ?? "none"
            }
            return result
        }

        func stop() {
            Task { [fleet] in try? await fleet.stop() }
            directory.remove()
            origin.directory.remove()
        }
    }

    /// The stand-ins the simulator's instances lack for the shared template's install script
    /// (Amazon Linux's dnf, nginx, systemctl, the apache user): the test's "machine image", put in
    /// front of the template's own user data in a launch template version the group then uses.
    static let machineImage = "# the simulator's machine image provides dnf, nginx, systemctl (deploy2)"

    /// Puts the prod group on a version of its template with the stand-ins, at `size` instances.
    static func standIns(_ cloud: Cloud, size: Int, minSize: Int? = nil) async throws -> (group: String, template: String) {
        let client = cloud.fleet.client()
        let outputs = try await cloud.outputs()
        let name = try #require(outputs["ProdAutoScalingGroupName"])
        let group = try #require(try await AutoScaling(client).group(name))
        let template = try #require(group.launchTemplateID)
        let ec2 = EC2(client)
        let named = try #require(group.launchTemplateVersion)
        let source = try #require(try await ec2.describeLaunchTemplateVersions(templateID: template, versions: [named]).first)
        var lines = try #require(source.userData).components(separatedBy: "\n")
        #expect(lines.first == "#!/bin/bash" && source.imageID?.hasPrefix("ami-") == true)
        lines.insert(machineImage, at: 1)
        let version = try await ec2.createLaunchTemplateVersion(templateID: template, sourceVersion: String(source.number),
                                                                userData: lines.joined(separator: "\n"), description: "stand-ins")
        // min = desired: target tracking would otherwise take an idle group back to 2 during the test.
        try await AutoScaling(client).updateGroup(name: name, minSize: minSize ?? size, maxSize: max(6, size), desiredCapacity: size,
                                                  launchTemplateID: template, launchTemplateVersion: String(version))
        return (name, template)
    }

    @Test func pinnedUserDataNamesItsReleaseOnceAndUnpinsToTheOriginal() {
        let original = "#!/bin/bash\nENV=prod PROJECT=p\nset -euo pipefail\n"
        let pinned = ReleasePin.pinned(original, release: "20261201T093512Z-1a2b3c4")
        #expect(pinned.hasPrefix("#!/bin/bash\nRELEASE=20261201T093512Z-1a2b3c4  # pinned by adminctl deploy --refresh\nENV=prod"))
        #expect(ReleasePin.release(in: pinned) == "20261201T093512Z-1a2b3c4")
        let again = ReleasePin.pinned(pinned, release: "20261202T000000Z-2b3c4d5")
        #expect(again.components(separatedBy: "RELEASE=").count == 2 && ReleasePin.release(in: again) == "20261202T000000Z-2b3c4d5")
        #expect(ReleasePin.unpinned(again) == original && ReleasePin.release(in: original) == nil)
        #expect(ReleasePin.pinned("echo hi", release: "r1") == "RELEASE=r1  # pinned by adminctl deploy --refresh\necho hi")
    }

    /// StartInstanceRefresh has no idempotency token: when AWS starts the refresh and its answer is
    /// lost, the retry is refused with InstanceRefreshInProgress. That refresh, to the launch
    /// template version just made, is this deploy's own and is followed to its end (the pointer
    /// moved): it was reported as somebody else's, and ran on unfollowed to a release the pointer
    /// did not name.
    @Test func aRefreshWhoseStartAnswerIsLostIsFollowedAsItsOwn() async throws {
        let cloud = try await Cloud.up()
        defer { cloud.stop() }
        let (group, _) = try await Self.standIns(cloud, size: 2)
        let deploy = try await cloud.deploy()
        let r1 = try await cloud.release("r1")
        try await cloud.fleet.inject(kind: "drop-after", service: "autoscaling", operation: "StartInstanceRefresh", count: 1)
        let report = try await deploy.run(release: r1.id)
        #expect(report.release == r1.id && report.instances.count == 2, "\(report)")
        #expect(Set(try await cloud.currentReleases().values) == [r1.id])
        let client = cloud.fleet.client()
        #expect(try await SSM(client).getParameter(ParameterNames(project: cloud.name).release(.prod))?.Value == r1.id)
        let refreshes = try await AutoScaling(client).describeInstanceRefreshes(group: group)
        #expect(refreshes.map(\.id) == [report.refreshID] && refreshes.first?.status == "Successful", "\(refreshes)")

        // The refresh succeeds but the group cannot be put back on a version following the pointer
        // (the second CreateLaunchTemplateVersion fails past its retries): said, with the command
        // that finishes it.
        let r2 = try await cloud.release("r2")
        try await cloud.fleet.inject(kind: "error500", service: "ec2", operation: "CreateLaunchTemplateVersion", count: 3, skip: 1)
        let stuck = await #expect(throws: DeployError.self) { try await deploy.run(release: r2.id) }
        #expect(stuck?.kind == .refreshFailed && stuck?.message.contains("still launches version ") == true, "\(String(describing: stuck))")
        #expect(stuck?.message.contains("`adminctl deploy prod --refresh --release \(r2.id) --yes` finishes it") == true)
        #expect(Set(try await cloud.currentReleases().values) == [r2.id])
        let finished = try await deploy.run(release: r2.id)
        #expect(Set(try await cloud.currentReleases().values) == [r2.id], "\(finished)")
        let version = try #require(try await AutoScaling(client).group(group)?.launchTemplateVersion)
        #expect(version == String(finished.groupVersion))
        let template = try #require(try await AutoScaling(client).group(group)?.launchTemplateID)
        let launched = try await EC2(client).describeLaunchTemplateVersions(templateID: template, versions: [version])
        #expect(launched.map { ReleasePin.release(in: $0.userData ?? "") } == [nil])
    }

    @Test func aRefreshReplacesSixInstancesWithoutAFailedRequestAndABrokenReleaseIsRolledBack() async throws {
        let cloud = try await Cloud.up()
        defer { cloud.stop() }
        let client = cloud.fleet.client()
        let scaling = AutoScaling(client)
        let ec2 = EC2(client)
        let (group, template) = try await Self.standIns(cloud, size: 6)
        let deploy = try await cloud.deploy()
        #expect(deploy.minHealthyPercentage == 90 && deploy.instanceWarmup == 60 && deploy.groupName == group)
        let ssm = SSM(client)
        let pointer = ParameterNames(project: cloud.name).release(.prod)

        // A release that is not recorded changes nothing.
        let versionsBefore = try #require(try await ec2.describeLaunchTemplates(ids: [template]).first).latestVersion
        let unknown = await #expect(throws: DeployError.self) { try await deploy.run(release: "20260101T000000Z-0000000") }
        #expect(unknown?.kind == .unknownRelease && unknown?.message.contains("`adminctl releases prod`") == true)
        #expect(try #require(try await ec2.describeLaunchTemplates(ids: [template]).first).latestVersion == versionsBefore)

        // r1 onto six instances: the baseline figure of Benchmarks/deploy.
        let r1 = try await cloud.release("r1")
        let plan = try await deploy.plan(release: r1.id)
        #expect(plan.instances == 6 && plan.perBatch == 1 && plan.currentRelease == nil && plan.refreshUnderWay == nil, "\(plan)")
        #expect(plan.render(ColorPolicy(enabled: false)).hasSuffix("Nothing was changed (--dry-run)."))
        #expect(try #require(try await ec2.describeLaunchTemplates(ids: [template]).first).latestVersion == versionsBefore)
        let lines = Lines()
        let first = try await deploy.run(release: r1.id) { lines.add($0) }
        print("instance refresh of 6 instances at FLEET_TIME_SCALE=0.02: \(String(format: "%.1f", first.seconds)) s")
        #expect(first.release == r1.id && first.previousRelease == nil && first.instances.count == 6, "\(first)")
        #expect(Set(try await cloud.currentReleases().values) == [r1.id])
        #expect(try await ssm.getParameter(pointer)?.Value == r1.id)
        #expect(lines.all.contains { $0.hasPrefix("Instance refresh InProgress: ") && $0.contains("instances to update") })
        #expect(lines.all.contains("Instance refresh Successful: 100% complete, 0 instances to update"), "\(lines.all)")
        // The refresh's version pins r1; the group now launches from one that follows the pointer.
        let versions = try await ec2.describeLaunchTemplateVersions(templateID: template,
                                                                   versions: [String(first.refreshVersion), String(first.groupVersion)])
        #expect(versions.map { ReleasePin.release(in: $0.userData ?? "") } == [r1.id, nil])
        #expect(try await scaling.group(group)?.launchTemplateVersion == String(first.groupVersion))
        let refreshes = try await scaling.describeInstanceRefreshes(group: group, ids: [first.refreshID])
        #expect(refreshes.first?.status == "Successful")

        // r2 under load through the balancer: not one failed request, only r1 or r2 answering, then only r2.
        // r2 named by its ref: built under the deploy's lock, then refreshed to.
        try await cloud.origin.commit("public/index.php", "<?php echo 'r2';\n", "release r2")
        try await cloud.origin.git(["-C", cloud.origin.seed, "push", "--quiet", "origin", "main"])
        // With a new machine image too (--image-id): the refresh's version carries it, and so do the instances.
        let image = try #require(try await ec2.describeImages(owners: ["amazon"]).map(\.id).first { $0 != first.imageID })
        let load = try await cloud.load(threads: 4, rate: 60)
        let heard = Lines()
        let second = try await deploy.run(ref: "main", releaseID: nil, imageID: image) { heard.add($0) }
        let r2 = try #require(try await EnvironmentReleases.open(.prod, directory: cloud.project, processEnvironment: cloud.environment,
                                                                  http: HTTPClient(environment: [:])).catalog.releases().last)
        let head = try await cloud.origin.git(["-C", cloud.origin.bare, "rev-parse", "main"])
        #expect(second.release == r2.id && r2.commit == head)
        #expect(heard.all.contains { $0.hasPrefix("Instance refresh Successful") }, "\(heard.all)")
        let traffic = try await load.stop()
        #expect(second.imageID == image && second.previousImageID == first.imageID)
        let images = try await ec2.describeInstances(ids: second.instances).all { $0 }.map(\.imageID)
        #expect(Set(images) == [image], "\(images)")
        print("instance refresh of 6 instances under load: \(String(format: "%.1f", second.seconds)) s; traffic \(traffic)")
        #expect(traffic.failed == 0, "\(traffic)")
        #expect(traffic.requests > 100 && Set(traffic.bodies.keys).isSubset(of: ["r1", "r2"]) && traffic.bodies["r2"] != nil, "\(traffic)")
        #expect(Set(try await cloud.currentReleases().values) == [r2.id] && second.previousRelease == r1.id)

        // r3 never turns healthy: the refresh fails, AWS rolls it back, the pointer never moved.
        let r3 = try await cloud.release("r3", healthy: false)
        let broken = await #expect(throws: DeployError.self) { try await deploy.run(release: r3.id) }
        #expect(broken?.kind == .refreshFailed, "\(String(describing: broken))")
        #expect(broken?.message.contains("ended RollbackSuccessful") == true && broken?.message.contains("runs \(r2.id)") == true,
                "\(String(describing: broken))")
        #expect(try await ssm.getParameter(pointer)?.Value == r2.id)
        #expect(Set(try await cloud.currentReleases().values) == [r2.id])
        #expect(try await scaling.group(group)?.launchTemplateVersion == String(second.groupVersion))
        #expect(try await DeployLock(ssm: ssm, names: ParameterNames(project: cloud.name), environment: .prod, lease: 120)
            .current()?.isReleased == true)

        // Another refresh under way: refused with what to do, nothing started.
        let other = try await scaling.startInstanceRefresh(group: group, preferences: .init(minHealthyPercentage: 50, autoRollback: false),
                                                           launchTemplateID: template, launchTemplateVersion: String(second.groupVersion))
        let busy = await #expect(throws: DeployError.self) { try await deploy.run(release: r2.id) }
        #expect(busy?.kind == .refreshInProgress && busy?.message.contains("InstanceRefreshInProgress") == true
                && busy?.message.contains("aws autoscaling cancel-instance-refresh --auto-scaling-group-name \(group)") == true,
                "\(String(describing: busy))")
        try await scaling.cancelInstanceRefresh(group: group)
        try await settle(scaling, group, other)

        // Ctrl-C while it runs: the refresh is cancelled (and said), the pointer stays, the lock is free.
        let said = Lines()
        let running = Task { try await deploy.run(release: r1.id) { said.add($0) } }
        for _ in 0..<600 where !said.all.contains(where: { $0.hasPrefix("Instance refresh InProgress") }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(said.all.last?.hasPrefix("Interrupted: cancelled instance refresh ") == true, "\(said.all)")
        let cancelled = try #require(try await scaling.describeInstanceRefreshes(group: group).first)
        #expect(["Cancelling", "Cancelled"].contains(cancelled.status))
        try await settle(scaling, group, cancelled.id)
        #expect(try await ssm.getParameter(pointer)?.Value == r2.id)
        #expect(try await DeployLock(ssm: ssm, names: ParameterNames(project: cloud.name), environment: .prod, lease: 120)
            .current()?.isReleased == true)
    }

    func settle(_ scaling: AutoScaling, _ group: String, _ id: String) async throws {
        for _ in 0..<1200 {
            if let refresh = try await scaling.describeInstanceRefreshes(group: group, ids: [id]).first,
               ["Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"].contains(refresh.status) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("refresh \(id) did not end")
    }
}

/// A running load generator; `stop` ends it (SIGTERM) and reads its summary.
struct Load: Sendable {
    let process: SpawnedProcess
    let output: Task<[UInt8], Never>

    func stop() async throws -> Traffic {
        process.signal(SIGTERM)
        _ = try await process.wait()
        let data = await output.value
        guard let traffic = try? JSONDecoder().decode(Traffic.self, from: Data(data)) else {
            throw FleetError(message: "load.py printed no summary: \(String(decoding: data, as: UTF8.self))")
        }
        return traffic
    }
}

/// load.py's summary.
struct Traffic: Decodable, Sendable, CustomStringConvertible {
    var requests: Int
    var failed: Int
    var statuses: [String: Int]
    var bodies: [String: Int]
    var errors: [String]
    var description: String { "\(requests) requests, \(failed) failed \(errors), statuses \(statuses), bodies \(bodies)" }
}

/// Progress lines heard from another task.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
