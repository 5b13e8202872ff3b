import AWS
import Foundation
import HTTP
import Nuvola
import Synchronization
import Terminal

/// `adminctl deploy` and `adminctl rollback` in rolling mode: under the environment's deploy
/// lock, the release is staged on every InService instance of the group at once (download,
/// verify, unpack, shared links, cache warm-up: nothing served changes), migrations run once,
/// then waves of instances health-check the new release locally and switch `current` to it.
/// A failed (or interrupted) wave stops the deploy and every instance switched so far goes back
/// to the release it served; the release pointer moves only after the last wave, then
/// instances that joined the group meanwhile are brought along.
public struct RollingDeploy: Sendable {
    public var environment: AppEnvironment
    public var releases: EnvironmentReleases
    public var group: String
    public var scaling: AutoScaling
    public var fleet: FleetRun
    public var script: DeployScript
    public var batch: DeployBatch
    public var minHealthyPercent: Int
    public var stepTimeout: Int
    /// How long instances whose agent is not online yet are waited for.
    public var onlineWait: Double = 60

    public static func open(_ environment: AppEnvironment, directory: String, processEnvironment: [String: String],
                            http: HTTPClient) async throws -> RollingDeploy {
        let session = try await AdminSession.open(directory: directory, environment: processEnvironment, http: http)
        let releases = try await EnvironmentReleases.open(environment, session: session)
        let group = try await AppEnvironments(session: session).groupName(environment)
        let client = session.client
        let bucket = releases.catalog.bucket
        var fleet = FleetRun(ssm: SSM(client), ec2: EC2(client), s3: S3(client), outputBucket: bucket, stagingBucket: bucket)
        if let interval = session.pollOverride { fleet.pollInterval = (interval, max(interval, .seconds(1))) }
        let layers = session.config.layers
        let script = DeployScript(bucket: bucket, region: client.region,
                                  sharedPaths: (layers.value("deploy.shared_paths").map(Setting.items) ?? []),
                                  healthPath: layers.value("deploy.health_path") ?? "/health",
                                  keepReleases: layers.integer("deploy.keep_releases"))
        return RollingDeploy(environment: environment, releases: releases, group: group, scaling: AutoScaling(client), fleet: fleet,
                             script: script, batch: DeployBatch(layers.value("deploy.batch") ?? "50%") ?? .percent(50),
                             minHealthyPercent: layers.integer("deploy.min_healthy_percent"),
                             stepTimeout: layers.integer("deploy.step_timeout_seconds"))
    }

    public struct Request: Sendable {
        public var ref: String?
        public var releaseID: String?
        public var batch: DeployBatch?
        public var dryRun: Bool
        public var forceUnlock: Bool

        public init(ref: String? = nil, releaseID: String? = nil, batch: DeployBatch? = nil, dryRun: Bool = false, forceUnlock: Bool = false) {
            self.ref = ref
            self.releaseID = releaseID
            self.batch = batch
            self.dryRun = dryRun
            self.forceUnlock = forceUnlock
        }
    }

    var catalog: ReleaseCatalog { releases.catalog }
    var name: String { environment.rawValue }

    // MARK: Entry points

    /// `adminctl deploy`: builds (or reuses) the release and rolls it out.
    public func deploy(_ request: Request, console: Console) async throws -> DeployReport {
        let started = ContinuousClock.now
        let batch = request.batch ?? self.batch
        if request.dryRun {
            let (release, built, commit) = try await plannedRelease(request)
            let hosts = try await instances()
            var report = emptyReport(.deploy, release: release?.id ?? "(new release)", batch: batch, dryRun: true)
            report.previous = try await catalog.current()
            report.built = built
            report.commit = commit
            if let release {
                report.migrations = try await migrationsPlanned(release) ? "planned" : "none"
            } else {
                report.migrations = "decided when the release is built"
            }
            report.waves = plan(hosts, batch: batch).waves.enumerated().map { DeployReport.Wave(number: $0 + 1, instances: $1, outcome: "planned") }
            report.outcome = .planned
            report.seconds = (ContinuousClock.now - started).seconds
            return report
        }
        let hold = try await acquire(request.forceUnlock, purpose: "deploy", about: request.releaseID ?? request.ref ?? releases.defaultRef,
                                     console: console)
        return try await hold.holding {
            var phases: [String: Double] = [:]
            let buildStart = ContinuousClock.now
            let (release, built) = try await self.release(for: request, console: console)
            phases["build"] = (ContinuousClock.now - buildStart).seconds
            try? await hold.describe(release: release.id)
            var report = try await rollOut(release, action: .deploy, batch: batch, console: console, started: started)
            report.built = built
            report.commit = release.commit
            report.phases.merge(phases) { $1 }
            return report
        }
    }

    /// `adminctl rollback`: the release before the pointer's (or `to`), switched back in waves;
    /// nothing is downloaded where it is still on the instance.
    public func rollback(to target: String?, batch requested: DeployBatch?, dryRun: Bool, forceUnlock: Bool,
                         console: Console) async throws -> DeployReport {
        let started = ContinuousClock.now
        let batch = requested ?? self.batch
        let release = try await rollbackTarget(target)
        if dryRun {
            var report = emptyReport(.rollback, release: release.id, batch: batch, dryRun: true)
            report.previous = try await catalog.current()
            report.commit = release.commit
            report.waves = plan(try await instances(), batch: batch).waves.enumerated()
                .map { DeployReport.Wave(number: $0 + 1, instances: $1, outcome: "planned") }
            report.outcome = .planned
            report.seconds = (ContinuousClock.now - started).seconds
            return report
        }
        let hold = try await acquire(forceUnlock, purpose: "rollback", about: release.id, console: console)
        return try await hold.holding {
            var report = try await rollOut(release, action: .rollback, batch: batch, console: console, started: started)
            report.commit = release.commit
            return report
        }
    }

    // MARK: Releases

    func acquire(_ forceUnlock: Bool, purpose: String, about: String, console: Console) async throws -> DeployLockHold {
        let holder = DeployLock.holderName(environment: releases.processEnvironment)
        if forceUnlock, let previous = try await releases.lock.forceUnlock(by: holder) {
            console.note("Removed the \(name) deploy lock held by \(previous.holder) (\(previous.purpose)).")
        }
        return try await releases.lock.acquire(holder: holder, purpose: purpose, release: about) { console.note($0) }
    }

    /// A published release: the one named, else the ref's (built when it is not yet).
    func release(for request: Request, console: Console) async throws -> (Release, Bool) {
        if let id = request.releaseID { return (try await catalog.deployable(id), false) }
        let report = try await releases.builder().build(ref: request.ref ?? releases.defaultRef,
                                                        builtBy: DeployLock.holderName(environment: releases.processEnvironment)) {
            console.note($0)
        }
        if !report.built { console.note("Release \(report.release.id) is already built from \(report.release.commit.prefix(7)); reused.") }
        return (report.release, report.built)
    }

    /// What a dry run would deploy: the named release, or the ref's published one (nil: it would be built).
    func plannedRelease(_ request: Request) async throws -> (Release?, Bool, String?) {
        if let id = request.releaseID { return (try await catalog.deployable(id), false, nil) }
        let resolved = try await releases.builder().resolve(request.ref ?? releases.defaultRef)
        return (resolved.existing, resolved.existing == nil, resolved.commit.id)
    }

    /// The release before the pointer's in build order that served, or `to` (which must have served):
    /// a rollback checks no health and runs no migrations, so a release whose deploy failed (or
    /// that was only built) is never switched to by one.
    func rollbackTarget(_ to: String?) async throws -> Release {
        let current = try await catalog.current()
        if let to {
            let release = try await catalog.deployable(to)
            guard release.servedAt != nil || release.id == current else {
                throw DeployError(.unknownRelease, "Release \(to) never served \(name) (it was only built, or its deploy failed or was "
                    + "interrupted), so it is not switched to without a health check. `adminctl deploy \(name) --release \(to) --yes` "
                    + "checks its health on every instance and runs its migrations.")
            }
            return release
        }
        let all = try await catalog.releases()
        guard let current else {
            throw DeployError(.unknownRelease, "\(name) has no release deployed yet, so there is nothing to roll back to.")
        }
        guard let before = all.last(where: { $0.id < current && $0.servedAt != nil }) else {
            throw DeployError(.unknownRelease, "\(name) runs \(current) and no older release that served it is recorded to roll back to. "
                + "`adminctl releases \(name)` lists them; `adminctl deploy \(name) --release ID --yes` deploys one with its health checked.")
        }
        return try await catalog.deployable(before.id)
    }

    /// Whether the release's tarball has a console and Doctrine migrations (read from the artifact).
    func migrationsPlanned(_ release: Release) async throws -> Bool {
        let directory = NSTemporaryDirectory() + "adminctl-plan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/release.tar.gz"
        _ = try await catalog.s3.download(bucket: catalog.bucket, key: release.key, to: path)
        return try await ReleaseContents.hasMigrations(tarball: path)
    }

    // MARK: Instances and waves

    /// The group's InService instances, as the fleet engine sees them (with their agents' status).
    func instances() async throws -> [(host: FleetHost, zone: String)] {
        guard let found = try await scaling.group(group) else {
            throw InfraError(.stackState, "The \(name) Auto Scaling group \(group) is gone; `adminctl infra status --drift` shows what changed.")
        }
        let members = found.instances.filter { $0.lifecycleState == "InService" }
        guard !members.isEmpty else {
            throw DeployError(.noInstances, "The \(name) group \(group) has no instance in service, so there is nothing to deploy to. "
                + "`adminctl status \(name)` shows the group; `adminctl scale \(name) --desired 2` adds instances.")
        }
        let zones = Dictionary(members.map { ($0.id, $0.availabilityZone) }, uniquingKeysWith: { a, _ in a })
        let hosts = try await fleet.resolve(FleetSelection(instanceIDs: members.map(\.id).sorted()))
        return hosts.map { ($0, zones[$0.instanceID] ?? "") }
    }

    func plan(_ hosts: [(host: FleetHost, zone: String)], batch: DeployBatch) -> DeployWaves {
        DeployWaves.plan(hosts.map { DeployWaves.Instance(id: $0.host.instanceID, zone: $0.zone) }, batch: batch,
                         minHealthyPercent: minHealthyPercent)
    }

    func emptyReport(_ action: DeployReport.Action, release: String, batch: DeployBatch, dryRun: Bool) -> DeployReport {
        DeployReport(action: action, mode: .rolling, environment: environment, release: release, previous: nil, built: nil, commit: nil,
                     dryRun: dryRun, batch: batch.description, minHealthyPercent: minHealthyPercent, migrations: nil,
                     migrationInstance: nil, waves: [], instances: [], newcomers: [], pointerMoved: false, outcome: .deployed,
                     failure: nil, phases: [:], seconds: 0)
    }

    // MARK: Rolling out

    /// Stage everywhere, migrate once (deploys), switch in waves, move the pointer, bring newcomers along.
    func rollOut(_ release: Release, action: DeployReport.Action, batch: DeployBatch, console: Console,
                 started: ContinuousClock.Instant) async throws -> DeployReport {
        var report = emptyReport(action, release: release.id, batch: batch, dryRun: false)
        report.previous = try await catalog.current()
        // An instance refresh replaces instances from its own launch template version while the
        // waves run, and goes on after them: what it launches would not serve this release.
        if let active = try await scaling.describeInstanceRefreshes(group: group).first(where: { !InstanceRefreshDeploy.finished.contains($0.status) }) {
            throw DeployError(.refreshInProgress, "Instance refresh \(active.id) is \(active.status) on \(group) "
                + "(\(active.percentageComplete)% complete): the instances it launches install what its launch template version says, "
                + "not \(release.id), so nothing was switched. Wait for it (`aws autoscaling describe-instance-refreshes "
                + "--auto-scaling-group-name \(group)`) or stop it (`aws autoscaling cancel-instance-refresh --auto-scaling-group-name "
                + "\(group)`), then run `adminctl \(action.rawValue) \(name)` again.")
        }
        var hosts = try await instances()
        if hosts.contains(where: { !$0.host.isOnline }) {
            let waited = try await fleet.waitOnline(hosts.map(\.host), seconds: onlineWait) { console.note($0) }
            let byID = Dictionary(waited.map { ($0.instanceID, $0) }, uniquingKeysWith: { a, _ in a })
            hosts = hosts.map { (byID[$0.host.instanceID] ?? $0.host, $0.zone) }
        }
        if let offline = hosts.first(where: { !$0.host.isOnline }) {
            throw DeployError(.unreachable, "\(offline.host.instanceID) is in service in \(group) but Run Command cannot reach it "
                + "(\(offline.host.unreachable ?? "agent offline")), so it would keep the old release; nothing was changed. "
                + "When it is gone for good, `aws autoscaling terminate-instance-in-auto-scaling-group --instance-id "
                + "\(offline.host.instanceID) --no-should-decrement-desired-capacity` replaces it.")
        }
        let waves = plan(hosts, batch: batch)
        let zones = Dictionary(hosts.map { ($0.host.instanceID, $0.zone) }, uniquingKeysWith: { a, _ in a })
        let byID = Dictionary(hosts.map { ($0.host.instanceID, $0.host) }, uniquingKeysWith: { a, _ in a })
        var state = Dictionary(uniqueKeysWithValues: waves.waves.enumerated().flatMap { index, ids in
            ids.map { ($0, DeployReport.Instance(id: $0, zone: zones[$0] ?? "", wave: index + 1, from: nil, now: nil, staged: nil,
                                                 outcome: "not-switched", reason: nil)) }
        })
        report.waves = waves.waves.enumerated().map { DeployReport.Wave(number: $0 + 1, instances: $1, outcome: "pending") }
        console.note("\(action == .deploy ? "Deploying" : "Rolling back to") \(release.id) on \(hosts.count) instance(s) of \(group) "
            + "in \(waves.waves.count) wave(s) of at most \(waves.waves.map(\.count).max() ?? 0) (batch \(batch), min healthy \(minHealthyPercent)%).")

        func finish(_ outcome: DeployReport.Outcome, failure: String? = nil) -> DeployReport {
            report.instances = waves.waves.flatMap { $0 }.compactMap { state[$0] } + report.instances.filter { $0.wave == 0 }
            report.outcome = outcome
            report.failure = failure
            report.seconds = (ContinuousClock.now - started).seconds
            return report
        }

        var reached = 0   // the last wave sent a switch: what a revert has to look at
        // Instances terminated while the deploy runs (a scale-in, a replacement): they serve
        // nothing any more, so they are left out from then on instead of failing the deploy.
        var gone: Set<String> = []
        func leave(_ id: String, _ why: String) {
            gone.insert(id)
            state[id]?.outcome = "gone"
            state[id]?.reason = "it went away during the deploy (\(why))"
            console.note("\(id) went away during the deploy (\(why)): it is left out.")
        }
        do {
            // 1. Stage on every instance at once: serving is untouched.
            let stageStart = ContinuousClock.now
            console.note("Staging \(release.id) on \(hosts.count) instance(s)…")
            let url = try await catalog.s3.presignedURL(bucket: catalog.bucket, key: release.key, expires: .seconds(3600))
            let staged = try await run(script.stage(release, url: url), display: "deploy: stage \(release.id)", on: hosts.map(\.host))
            report.phases["stage"] = (ContinuousClock.now - stageStart).seconds
            for result in staged.hosts where result.outcome == .lost { leave(result.host.instanceID, "EC2 state \(result.statusDetails)") }
            for result in staged.hosts where result.outcome != .lost {
                let marks = Self.marks(result.stdout)
                let from = marks["current"].flatMap { $0.isEmpty ? nil : $0 }
                state[result.host.instanceID]?.from = from
                state[result.host.instanceID]?.now = from
                state[result.host.instanceID]?.staged = Self.stagedHow(result.stdout)
                if result.outcome != .ok {
                    state[result.host.instanceID]?.outcome = "failed"
                    state[result.host.instanceID]?.reason = Self.reason(result, step: "staging")
                }
            }
            if staged.interrupted { throw CancellationError() }
            if let failed = staged.hosts.first(where: { $0.outcome != .ok && $0.outcome != .lost }) {
                return finish(.rolledBack, failure: "staging failed on \(failed.host.instanceID): \(Self.reason(failed, step: "staging")); "
                    + "no instance was switched")
            }

            // 2. Migrations, once, before any switch.
            if action == .deploy, let first = waves.waves.joined().first(where: { !gone.contains($0) }), let host = byID[first] {
                let migrateStart = ContinuousClock.now
                let migrated = try await run(script.migrate(release), display: "deploy: migrate \(release.id)", on: [host])
                report.phases["migrations"] = (ContinuousClock.now - migrateStart).seconds
                if migrated.interrupted { throw CancellationError() }
                guard let result = migrated.hosts.first, result.outcome == .ok else {
                    let result = migrated.hosts.first
                    report.migrations = "failed"
                    report.migrationInstance = first
                    let why = result.map { Self.reason($0, step: "migrations") } ?? "no answer"
                    return finish(.rolledBack, failure: "migrations failed on \(first): \(why); no instance was switched")
                }
                report.migrations = Self.marks(result.stdout)["migrations"] == "run" ? "ran" : "none"
                report.migrationInstance = report.migrations == "ran" ? first : nil
                if report.migrations == "ran" { console.note("Migrations ran on \(first).") }
            }

            // 3. Waves.
            let wavesStart = ContinuousClock.now
            for (index, ids) in waves.waves.enumerated() {
                let waveStart = ContinuousClock.now
                reached = index + 1
                console.note("Wave \(index + 1)/\(waves.waves.count): switching \(ids.joined(separator: " ")) to \(release.id)…")
                // The group as it is now: an instance it terminated (scale-in, replacement) since
                // the deploy began is not sent a switch it could never answer.
                if let members = try await scaling.group(group)?.instances {
                    let states = Dictionary(members.map { ($0.id, $0.lifecycleState) }, uniquingKeysWith: { a, _ in a })
                    for id in ids where !gone.contains(id) && states[id] != "InService" {
                        leave(id, states[id].map { "lifecycle state \($0)" } ?? "no longer in the group")
                    }
                }
                let targets = ids.filter { !gone.contains($0) }.compactMap { byID[$0] }
                if targets.isEmpty {
                    report.waves[index].outcome = "gone"
                    continue
                }
                let result = try await run(script.switchTo(release.id, healthCheck: action == .deploy),
                                           display: "deploy: switch to \(release.id)", on: targets)
                report.waves[index].seconds = (ContinuousClock.now - waveStart).seconds
                var failure: String?
                for host in result.hosts where host.outcome == .lost { leave(host.host.instanceID, "EC2 state \(host.statusDetails)") }
                for host in result.hosts where host.outcome != .lost {
                    let id = host.host.instanceID
                    let marks = Self.marks(host.stdout)
                    if marks["switched"] == release.id { state[id]?.now = release.id }
                    if marks["switched"] == release.id && host.outcome == .ok {
                        let unchanged = state[id]?.from == release.id
                        state[id]?.outcome = unchanged ? "unchanged" : "switched"
                    } else {
                        state[id]?.outcome = result.interrupted ? "interrupted" : "failed"
                        state[id]?.reason = Self.reason(host, step: action == .deploy ? "health check or switch" : "switch")
                        failure = failure ?? "wave \(index + 1) failed on \(id): \(state[id]?.reason ?? "")"
                    }
                }
                if result.interrupted {
                    report.waves[index].outcome = "interrupted"
                    throw CancellationError()
                }
                if let failure {
                    report.waves[index].outcome = "failed"
                    console.note("Wave \(index + 1) failed: putting every switched instance back.")
                    try await revert(&state, upTo: reached, byID: byID, console: console)
                    return finish(.rolledBack, failure: failure)
                }
                report.waves[index].outcome = "ok"
                console.note("Wave \(index + 1)/\(waves.waves.count) done in \(String(format: "%.2f", report.waves[index].seconds ?? 0)) s.")
            }
            report.phases["waves"] = (ContinuousClock.now - wavesStart).seconds
        } catch {
            // Ctrl-C (or a failure of AWS itself) in the middle: what was switched goes back, even
            // though this task is cancelled (the revert runs in a task of its own).
            let snapshot = state, upTo = reached
            let reverted = await Task { [self] in
                var state = snapshot
                try? await self.revert(&state, upTo: upTo, byID: byID, console: console)
                return state
            }.value
            state = reverted
            if error is CancellationError || Task.isCancelled {
                // Said as it is: before any wave nothing changed (staging results may not be in, so
                // what serves is not known here); after one, what each instance serves now.
                let served = Set(reverted.values.compactMap(\.now)).sorted()
                let stuck = reverted.values.filter { $0.now == release.id && $0.from != release.id }.map(\.id).sorted()
                if upTo == 0 {
                    console.note("Interrupted before any instance was switched: \(name) serves what it served before"
                        + "\(report.previous.map { " (\($0))" } ?? ""); the release pointer was not moved.")
                } else if stuck.isEmpty {
                    console.note("Interrupted: every instance switched was put back (\(name) serves \(served.joined(separator: ", "))); "
                        + "the release pointer was not moved.")
                } else {
                    console.note("Interrupted: \(stuck.joined(separator: " ")) could not be put back and serve \(release.id), the others "
                        + "\(served.filter { $0 != release.id }.joined(separator: ", ")); the release pointer was not moved. "
                        + "`adminctl status \(name)` shows each instance; `adminctl deploy \(name) --release "
                        + "\(report.previous ?? release.id) --yes` puts them all on one release.")
                }
            }
            throw error
        }

        // 4. The pointer: instances launched from now on install this release. Every instance
        // serves it already, so a pointer that cannot be moved is said as such, with the command
        // that moves it (the instances are then unchanged), not as a bare AWS error.
        do {
            try await catalog.ssm.putParameter(name: catalog.names.release(environment), value: release.id, overwrite: true,
                                               description: "adminctl: the release \(name) instances install")
        } catch where !(error is CancellationError) {
            let again = action == .deploy ? "adminctl deploy \(name) --release \(release.id) --yes"
                : "adminctl rollback \(name) --to \(release.id) --yes"
            return finish(.pointerNotMoved, failure: "the release pointer \(catalog.names.release(environment)) could not be moved "
                + "to it (\(error)); it still names \(report.previous ?? "none"), which instances launched from now on install. "
                + "`\(again)` moves it (every instance already serves \(release.id), so none is switched again)")
        }
        report.pointerMoved = true
        console.note("Release pointer \(catalog.names.release(environment)) → \(release.id).")
        do {
            // The release the pointer named before served too (records made before adminctl noted
            // this have no mark): so the first rollback after an upgrade has a release to go back to.
            for id in [report.previous, release.id].compactMap({ $0 }) { try await catalog.markServed(id) }
        } catch {
            console.warning("Release \(release.id) could not be recorded as served (\(error)): `adminctl rollback` will not pick it.")
        }

        // 5. Instances that joined meanwhile may have installed the old pointer's release.
        let catchStart = ContinuousClock.now
        let newcomers = try await catchUp(release, known: Set(hosts.map(\.host.instanceID)), console: console)
        report.phases["catch-up"] = (ContinuousClock.now - catchStart).seconds
        report.newcomers = newcomers.map(\.id)
        report.instances = newcomers
        await prune(keep: script.keepReleases, protecting: [release.id, report.previous].compactMap { $0 }, console: console)
        if let failed = newcomers.first(where: { $0.outcome == "failed" }) {
            return finish(.incomplete, failure: "\(failed.id), which joined the group during the deploy, could not be switched: "
                + "\(failed.reason ?? "failed")")
        }
        return finish(.deployed)
    }

    /// Puts every instance of the waves up to `upTo` back on the release it served before: those
    /// that switched, and those whose switch may have happened unseen (interrupted, timed out).
    /// Switching an instance to the release it serves changes nothing, so this is safe to repeat.
    func revert(_ state: inout [String: DeployReport.Instance], upTo: Int, byID: [String: FleetHost], console: Console) async throws {
        guard upTo > 0 else { return }
        let touched = state.values.filter { $0.wave >= 1 && $0.wave <= upTo && $0.outcome != "gone" }
        for item in touched where item.from == nil && item.now != nil {
            state[item.id]?.reason = "it served no release before, so there is none to put it back on"
        }
        let groups = Dictionary(grouping: touched.filter { $0.from != nil }, by: { $0.from! })
        for (previous, instances) in groups.sorted(by: { $0.key < $1.key }) {
            console.note("Switching \(instances.map(\.id).sorted().joined(separator: " ")) back to \(previous)…")
            let result = try await run(script.switchTo(previous, healthCheck: false), display: "deploy: revert to \(previous)",
                                       on: instances.map(\.id).sorted().compactMap { byID[$0] })
            for host in result.hosts {
                let id = host.host.instanceID
                if Self.marks(host.stdout)["switched"] == previous {
                    state[id]?.now = previous
                    state[id]?.outcome = "reverted"
                } else {
                    let before = state[id]?.reason.map { $0 + "; " } ?? ""
                    state[id]?.reason = before + "could not be put back: " + Self.reason(host, step: "revert")
                }
            }
        }
    }

    /// After the pointer moved: the group's instances that were not in the deploy, staged and
    /// switched (health-checked) to the release, unless they already run it.
    func catchUp(_ release: Release, known: Set<String>, console: Console) async throws -> [DeployReport.Instance] {
        guard let found = try await scaling.group(group) else { return [] }
        let joined = found.instances.filter { !known.contains($0.id) && ["InService", "Pending", "Pending:Wait", "Pending:Proceed"].contains($0.lifecycleState) }
        guard !joined.isEmpty else { return [] }
        console.note("\(joined.count) instance(s) joined \(group) during the deploy: bringing them to \(release.id)…")
        var hosts = try await fleet.resolve(FleetSelection(instanceIDs: joined.map(\.id).sorted()))
        if hosts.contains(where: { !$0.isOnline }) {
            hosts = try await fleet.waitOnline(hosts, seconds: onlineWait) { console.note($0) }
        }
        let zones = Dictionary(joined.map { ($0.id, $0.availabilityZone) }, uniquingKeysWith: { a, _ in a })
        let url = try await catalog.s3.presignedURL(bucket: catalog.bucket, key: release.key, expires: .seconds(3600))
        let result = try await run(script.stageAndSwitch(release, url: url, healthCheck: true), display: "deploy: bring along to \(release.id)",
                                   on: hosts)
        return result.hosts.map { host in
            let marks = Self.marks(host.stdout)
            if host.outcome == .offline {
                // Still booting without an agent: its user data reads the pointer, which names the release now.
                return DeployReport.Instance(id: host.host.instanceID, zone: zones[host.host.instanceID] ?? "", wave: 0, from: nil, now: nil,
                                             staged: nil, outcome: "left-to-boot", reason: "not reachable yet; its boot installs \(release.id)")
            }
            let ok = marks["switched"] == release.id
            return DeployReport.Instance(id: host.host.instanceID, zone: zones[host.host.instanceID] ?? "", wave: 0,
                                         from: marks["current"].flatMap { $0.isEmpty ? nil : $0 }, now: ok ? release.id : marks["current"],
                                         staged: Self.stagedHow(host.stdout), outcome: ok ? "switched" : "failed",
                                         reason: ok ? nil : Self.reason(host, step: "bringing along"))
        }
    }

    /// S3 and Parameter Store keep the newest `keep` releases too (and always the ones protected):
    /// older artifacts, checksums and records are deleted. A failure here is only said.
    func prune(keep: Int, protecting: [String], console: Console) async {
        do {
            let all = try await catalog.releases()
            let removed = ReleaseRetention.removable(all.map(\.id), keep: keep, protecting: Set(protecting))
            for id in removed {
                guard let release = all.first(where: { $0.id == id }) else { continue }
                try await catalog.s3.deleteObject(bucket: catalog.bucket, key: release.key + ".sha256")
                try await catalog.s3.deleteObject(bucket: catalog.bucket, key: release.key)
                try await catalog.ssm.deleteParameter(catalog.names.release(environment, id: id))
            }
            if !removed.isEmpty { console.note("Pruned \(removed.count) old release(s) from s3://\(catalog.bucket) and Parameter Store: \(removed.joined(separator: " ")).") }
        } catch {
            console.warning("Old releases could not be pruned (\(error)); the next deploy tries again.")
        }
    }

    /// One step on some instances through the fleet engine, to the step timeout.
    func run(_ text: String, display: String, on hosts: [FleetHost]) async throws -> FleetRunReport {
        try await fleet.run(FleetCommand(script: text, display: display), on: hosts, selection: FleetSelection(instanceIDs: hosts.map(\.instanceID)),
                            limits: FleetLimits(timeoutSeconds: stepTimeout)) { _ in }
    }

    // MARK: Reading results

    /// The `adminctl: key=value ...` lines a script printed (the last value of a key wins).
    static func marks(_ output: String) -> [String: String] {
        var marks: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("adminctl: ") {
            for pair in line.dropFirst("adminctl: ".count).split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2 { marks[String(parts[0])] = String(parts[1]) }
            }
        }
        return marks
    }

    /// "downloaded" or "reused", from the stage's first `staged=` line.
    static func stagedHow(_ output: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix("adminctl: staged=") {
            let value = line.dropFirst("adminctl: staged=".count)
            if value == "downloaded" || value == "reused" { return String(value) }
        }
        return nil
    }

    /// Why a step failed on a host, in a line: its stderr's last two lines (what failed, then
    /// the script's own words), else Run Command's.
    static func reason(_ result: HostResult, step: String) -> String {
        let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.suffix(2)
        if !lines.isEmpty {
            return lines.map { String($0.prefix(300)) }.joined(separator: " — ")
        }
        if let reason = result.reason { return reason }
        return "\(step) ended \(result.status)\(result.exitCode.map { " (exit \($0))" } ?? "")"
    }
}

/// Which releases S3 and Parameter Store no longer keep: `keep` are kept, the protected ones
/// (the pointer's, the previous one) always, then the newest others (ids sort by build time).
/// The same rule as the instances' (`DeployScript`).
public enum ReleaseRetention {
    public static func removable(_ ids: [String], keep: Int, protecting: Set<String>) -> [String] {
        var kept = Set(ids).intersection(protecting).count
        var removed: [String] = []
        for id in ids.sorted(by: >) where !protecting.contains(id) {
            if kept < keep {
                kept += 1
            } else {
                removed.append(id)
            }
        }
        return removed.sorted()
    }
}
