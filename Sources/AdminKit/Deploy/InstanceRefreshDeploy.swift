import AWS
import Foundation
import HTTP
import Nuvola
import Terminal

/// `adminctl deploy --refresh`: a release (and, for an AMI change, a new image) reaches an
/// environment by replacing its instances with an Auto Scaling instance refresh rather than by
/// switching releases in place.
///
/// A new numbered launch template version is made from the group's current one (never `$Latest`
/// or `$Default`, with which AWS cannot roll back) with the release pinned in its user data, and
/// StartInstanceRefresh replaces the instances with MinHealthyPercentage, InstanceWarmup,
/// SkipMatching and AutoRollback. The release pointer moves only once the refresh succeeded:
/// until then instances launched by a scale-out or a rollback install the release the others run.
/// Then the group is put on a version without the pin, so later launches follow the pointer again
/// (as the rolling deploy expects).
public struct InstanceRefreshDeploy: Sendable {
    public var environment: AppEnvironment
    public var releases: EnvironmentReleases
    public var client: AWSClient
    public var groupName: String
    public var minHealthyPercentage: Int
    public var instanceWarmup: Int
    /// How often the refresh is read while it runs.
    public var poll: Duration

    public init(environment: AppEnvironment, releases: EnvironmentReleases, client: AWSClient, groupName: String,
                minHealthyPercentage: Int = 90, instanceWarmup: Int = 60, poll: Duration = .seconds(15)) {
        self.environment = environment
        self.releases = releases
        self.client = client
        self.groupName = groupName
        self.minHealthyPercentage = minHealthyPercentage
        self.instanceWarmup = instanceWarmup
        self.poll = poll
    }

    /// From adminctl.toml (`deploy.refresh_min_healthy_percent`, `deploy.refresh_warmup_seconds`)
    /// and the shared stack's outputs (the environment's group).
    public static func open(_ environment: AppEnvironment, directory: String, processEnvironment: [String: String],
                            http: HTTPClient) async throws -> InstanceRefreshDeploy {
        let releases = try await EnvironmentReleases.open(environment, directory: directory, processEnvironment: processEnvironment,
                                                          http: http)
        let session = try await AdminSession.open(directory: directory, environment: processEnvironment, http: http)
        let group = try await AppEnvironments(session: session).groupName(environment)
        let layers = session.config.layers
        return InstanceRefreshDeploy(environment: environment, releases: releases, client: session.client, groupName: group,
                                     minHealthyPercentage: layers.integer("deploy.refresh_min_healthy_percent"),
                                     instanceWarmup: layers.integer("deploy.refresh_warmup_seconds"),
                                     poll: session.pollInterval(standard: .seconds(15)))
    }

    static let finished: Set<String> = ["Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"]

    /// Replaces the group's instances so they run `release` (and `imageID` when given), under the
    /// environment's deploy lock, following the refresh until it ends; `progress` hears each
    /// change of its state. Ctrl-C (cancellation) cancels the refresh. A refresh that does not
    /// succeed throws `.refreshFailed` with the pointer left on the release the fleet ran.
    public func run(release id: String, imageID: String? = nil,
                    progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> InstanceRefreshReport {
        let release = try await releases.catalog.deployable(id)
        let holder = DeployLock.holderName(environment: releases.processEnvironment)
        let hold = try await releases.lock.acquire(holder: holder, purpose: "deploy --refresh", release: release.id) { progress($0) }
        return try await hold.holding {
            try await self.refresh(to: release, imageID: imageID, progress: progress)
        }
    }

    /// `adminctl deploy --refresh [--ref REF | --release ID] [--force-unlock]`: the release named,
    /// else the ref's (default: the environment's branch), built under the lock when it is not yet
    /// (as a rolling deploy does), then `run(release:)`'s refresh within the same hold of the lock.
    public func run(ref: String?, releaseID: String?, imageID: String? = nil, forceUnlock: Bool = false,
                    progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> InstanceRefreshReport {
        let holder = DeployLock.holderName(environment: releases.processEnvironment)
        if forceUnlock, let previous = try await releases.lock.forceUnlock(by: holder) {
            progress("Removed the \(environment.rawValue) deploy lock held by \(previous.holder) (\(previous.purpose)).")
        }
        if let releaseID { return try await run(release: releaseID, imageID: imageID, progress: progress) }
        let builder = try releases.builder()
        let hold = try await releases.lock.acquire(holder: holder, purpose: "deploy --refresh", release: ref ?? releases.defaultRef) {
            progress($0)
        }
        return try await hold.holding {
            let built = try await builder.build(ref: ref ?? self.releases.defaultRef, builtBy: holder) { progress($0) }
            if !built.built { progress("Release \(built.release.id) is already built from \(built.release.commit.prefix(7)); reused.") }
            return try await self.refresh(to: try await releases.catalog.deployable(built.release.id), imageID: imageID, progress: progress)
        }
    }

    /// What `run` would do, changing nothing (`--dry-run`).
    public func plan(release id: String, imageID: String? = nil) async throws -> InstanceRefreshPlan {
        let release = try await releases.catalog.deployable(id)
        let (group, templateID, source) = try await launching()
        let active = try await AutoScaling(client).describeInstanceRefreshes(group: groupName).first { !Self.finished.contains($0.status) }
        let capacity = max(1, group.desiredCapacity)
        return InstanceRefreshPlan(
            environment: environment, group: groupName, release: release.id, currentRelease: try await releases.catalog.current(),
            launchTemplateID: templateID, fromVersion: source.number, imageID: imageID ?? source.imageID, currentImageID: source.imageID,
            instances: group.instances.count, minHealthyPercentage: minHealthyPercentage, instanceWarmup: instanceWarmup,
            perBatch: max(1, capacity - Int((Double(capacity * minHealthyPercentage) / 100).rounded(.up))),
            refreshUnderWay: active?.id)
    }

    /// The group, its launch template and the version it launches from (resolved to its number).
    func launching() async throws -> (AutoScaling.Group, String, EC2.LaunchTemplateVersion) {
        guard let group = try await AutoScaling(client).group(groupName) else {
            throw InfraError(.stackState, "The \(environment.rawValue) Auto Scaling group \(groupName) is gone; "
                + "`adminctl infra status --drift` shows what changed.")
        }
        guard let templateID = group.launchTemplateID, let named = group.launchTemplateVersion else {
            throw DeployError(.configuration, "The Auto Scaling group \(groupName) launches without a launch template, so there is no "
                + "version to refresh to; `adminctl infra up` puts the shared template's back.")
        }
        guard let source = try await EC2(client).describeLaunchTemplateVersions(templateID: templateID, versions: [named]).first else {
            throw DeployError(.configuration, "Launch template \(templateID) has no version \(named) for \(groupName) to launch from; "
                + "`adminctl infra up` puts the group's template back.")
        }
        return (group, templateID, source)
    }

    func refresh(to release: Release, imageID: String?, progress: @escaping @Sendable (String) -> Void) async throws -> InstanceRefreshReport {
        let started = ContinuousClock.now
        let scaling = AutoScaling(client)
        let ec2 = EC2(client)
        let (_, templateID, source) = try await launching()
        if let active = try await scaling.describeInstanceRefreshes(group: groupName).first(where: { !Self.finished.contains($0.status) }) {
            throw inProgress(active)
        }
        let previous = try await releases.catalog.current()
        let pinned = try await ec2.createLaunchTemplateVersion(
            templateID: templateID, sourceVersion: String(source.number), imageID: imageID,
            userData: ReleasePin.pinned(source.userData ?? "", release: release.id),
            description: "adminctl deploy \(release.id) --refresh")
        progress("Launch template \(templateID) version \(pinned) (from version \(source.number)"
            + "\(imageID.map { ", image \($0)" } ?? "")) pins release \(release.id).")

        var startedID: String?
        let last: AutoScaling.InstanceRefresh
        do {
            let refreshID: String
            do {
                refreshID = try await scaling.startInstanceRefresh(
                    group: groupName,
                    preferences: .init(minHealthyPercentage: minHealthyPercentage, instanceWarmup: instanceWarmup, skipMatching: true,
                                       autoRollback: true),
                    launchTemplateID: templateID, launchTemplateVersion: String(pinned))
            } catch let error as AWSError where error.code == "InstanceRefreshInProgress" {
                let active = try? await scaling.describeInstanceRefreshes(group: groupName).first { !Self.finished.contains($0.status) }
                // A refresh to the version made just now is this one: AWS started it, its answer was
                // lost and the retry was refused. It is followed (and the pointer moved) as ours.
                guard let active, active.desiredVersion == String(pinned) else {
                    throw active.map(inProgress) ?? DeployError(.refreshInProgress, "\(error.message) " + nextForInProgress())
                }
                refreshID = active.id
            }
            startedID = refreshID
            progress("Instance refresh \(refreshID) of \(groupName) started: at least \(minHealthyPercentage)% stay in service, "
                + "\(instanceWarmup) s warm-up.")
            last = try await follow(refreshID, progress: progress)
        } catch is CancellationError {
            // Ctrl-C (or the lock lost): the refresh stops where it is; the pointer never moved. Also when
            // the interruption came while StartInstanceRefresh was under way: whatever it started is stopped.
            progress(await cancel(startedID, release: release, previous: previous))
            throw CancellationError()
        }
        let refreshID = last.id

        guard last.status == "Successful" else {
            throw DeployError(.refreshFailed, failure(last, release: release, previous: previous, version: pinned, source: source.number))
        }
        // Launches from now on install the pointer's release again: it names this one.
        _ = try await releases.catalog.ssm.putParameter(name: releases.catalog.names.release(environment), value: release.id,
                                                        overwrite: true)
        do {
            for id in [previous, release.id].compactMap({ $0 }) { try await releases.catalog.markServed(id) }
        } catch {
            progress("Release \(release.id) could not be recorded as served (\(error)): `adminctl rollback` will not pick it.")
        }
        let unpinned: Int
        do {
            unpinned = try await ec2.createLaunchTemplateVersion(
                templateID: templateID, sourceVersion: String(pinned), userData: ReleasePin.unpinned(source.userData ?? ""),
                description: "adminctl deploy \(release.id) --refresh: launches follow the release pointer")
            try await scaling.updateGroup(name: groupName, launchTemplateID: templateID, launchTemplateVersion: String(unpinned))
        } catch where !(error is CancellationError) {
            // Left so, the group would go on launching the pinned release whatever later deploys
            // move the pointer to: said, with the command that finishes the job.
            throw DeployError(.refreshFailed, "Instance refresh \(last.id) replaced every instance of \(groupName) with release "
                + "\(release.id) and the release pointer names it, but the group could not be put back on a launch template version "
                + "that follows the pointer (\(error)). It still launches version \(pinned), which installs \(release.id) whatever the "
                + "pointer says. `adminctl deploy \(environment.rawValue) --refresh --release \(release.id) --yes` finishes it "
                + "(it replaces the instances once more, with the same release).")
        }
        let after = try await scaling.group(groupName)
        return InstanceRefreshReport(
            environment: environment, group: groupName, release: release.id, previousRelease: previous, refreshID: refreshID,
            launchTemplateID: templateID, refreshVersion: pinned, groupVersion: unpinned, previousVersion: source.number,
            imageID: imageID ?? source.imageID, previousImageID: source.imageID,
            instances: after?.instances.map(\.id).sorted() ?? [], seconds: (ContinuousClock.now - started).seconds)
    }

    /// Cancels the refresh being followed (or being started: `refreshID` nil) and says what the fleet runs now.
    func cancel(_ refreshID: String?, release: Release, previous: String?) async -> String {
        let scaling = AutoScaling(client)
        let name = refreshID.map { "instance refresh \($0)" } ?? "the instance refresh being started"
        // Its own task: the request must go out although the command's task is cancelled.
        return await Task { () -> String in
            do {
                try await scaling.cancelInstanceRefresh(group: groupName)
            } catch let error as AWSError where error.code == "ActiveInstanceRefreshNotFound" {
                return refreshID == nil ? "Interrupted before any instance refresh started: nothing was replaced."
                    : "Interrupted: \(name) had already ended."
            } catch {
                return "Interrupted, but cancelling \(name) failed (\(error)): "
                    + "`aws autoscaling cancel-instance-refresh --auto-scaling-group-name \(groupName)` stops it."
            }
            return "Interrupted: cancelled \(name) (CancelInstanceRefresh). Instances it already "
                + "replaced run \(release.id); the others, and any launched from now on, run \(previous ?? "the previous release") "
                + "(the release pointer did not move). `adminctl status \(environment.rawValue)` shows the fleet."
        }.value
    }

    /// Reads the refresh until it ends; a line for each change of status, percentage or reason.
    func follow(_ id: String, progress: @Sendable (String) -> Void) async throws -> AutoScaling.InstanceRefresh {
        let scaling = AutoScaling(client)
        var said = ""
        while true {
            try Task.checkCancellation()
            if let refresh = try await scaling.describeInstanceRefreshes(group: groupName, ids: [id]).first {
                let line = Self.line(refresh)
                if line != said {
                    progress(line)
                    said = line
                }
                if Self.finished.contains(refresh.status) { return refresh }
            }
            try await Task.sleep(for: poll)
        }
    }

    static func line(_ refresh: AutoScaling.InstanceRefresh) -> String {
        let count = refresh.instancesToUpdate
        return "Instance refresh \(refresh.status): \(refresh.percentageComplete)% complete, \(count) instance\(count == 1 ? "" : "s") to update"
            + (refresh.statusReason.map { $0.isEmpty ? "" : " (\(Printable.escaping($0)))" } ?? "")
    }

    func inProgress(_ active: AutoScaling.InstanceRefresh) -> DeployError {
        DeployError(.refreshInProgress, "Instance refresh \(active.id) is already \(active.status) on \(groupName) "
            + "(\(active.percentageComplete)% complete, \(active.instancesToUpdate) to update): AWS runs one at a time "
            + "(InstanceRefreshInProgress). " + nextForInProgress())
    }

    func nextForInProgress() -> String {
        "Follow it with `aws autoscaling describe-instance-refreshes --auto-scaling-group-name \(groupName)`, or stop it with "
            + "`aws autoscaling cancel-instance-refresh --auto-scaling-group-name \(groupName)`; then run "
            + "`adminctl deploy \(environment.rawValue) --refresh` again."
    }

    func failure(_ refresh: AutoScaling.InstanceRefresh, release: Release, previous: String?, version: Int, source: Int) -> String {
        let name = environment.rawValue
        let reason = refresh.statusReason.map { $0.isEmpty ? "" : ": \(Printable.escaping($0))" } ?? ""
        let was = previous ?? "the previous release"
        let head = "Instance refresh \(refresh.id) of \(groupName) to release \(release.id) (launch template version \(version)) "
            + "ended \(refresh.status)\(reason)."
        switch refresh.status {
        case "RollbackSuccessful":
            return head + " It was rolled back: every instance is on launch template version \(source) again and runs \(was); "
                + "the release pointer did not move. Check the release on a dev instance first (`adminctl deploy dev --refresh`)."
        case "Cancelled":
            return head + " Someone cancelled it: instances it replaced run \(release.id), the others \(was) (the pointer did not move). "
                + "`adminctl status \(name)` shows the fleet; `adminctl deploy \(name) --refresh` starts over."
        default:
            return head + " Some instances may run \(release.id) while the pointer still names \(was): `adminctl status \(name)` "
                + "shows them and `aws autoscaling describe-scaling-activities --auto-scaling-group-name \(groupName)` why; "
                + "`adminctl deploy \(name) --refresh` with a release that works replaces them."
        }
    }
}

/// What `adminctl deploy --refresh` did.
public struct InstanceRefreshReport: Sendable, Encodable {
    public var environment: AppEnvironment
    public var group: String
    public var release: String
    public var previousRelease: String?
    public var refreshID: String
    public var launchTemplateID: String
    /// The version the refresh launched (release pinned), the one the group launches from now on
    /// (the same, following the pointer) and the one it launched before.
    public var refreshVersion: Int
    public var groupVersion: Int
    public var previousVersion: Int
    public var imageID: String?
    public var previousImageID: String?
    /// The group's instances once the refresh ended.
    public var instances: [String]
    public var seconds: Double

    public func render(_ policy: ColorPolicy) -> String {
        let image = imageID != previousImageID ? " Image \(previousImageID ?? "?") → \(imageID ?? "?")." : ""
        return "\(environment.rawValue) runs \(release) (was \(previousRelease ?? "none")) on \(instances.count) new instance(s), "
            + "replaced by instance refresh \(refreshID) in \(String(format: "%.1f", seconds)) s.\(image)\n"
            + "Group \(group) launches from launch template \(launchTemplateID) version \(groupVersion) (was \(previousVersion))."
    }
}

/// What `adminctl deploy --refresh --dry-run` shows.
public struct InstanceRefreshPlan: Sendable, Encodable {
    public var environment: AppEnvironment
    public var group: String
    public var release: String
    public var currentRelease: String?
    public var launchTemplateID: String
    public var fromVersion: Int
    public var imageID: String?
    public var currentImageID: String?
    public var instances: Int
    public var minHealthyPercentage: Int
    public var instanceWarmup: Int
    /// Instances replaced at a time, as MinHealthyPercentage allows (at least one).
    public var perBatch: Int
    /// An instance refresh already under way (the deploy would be refused).
    public var refreshUnderWay: String?

    public func render(_ policy: ColorPolicy) -> String {
        var lines = ["Would replace the \(instances) instance(s) of \(group) by an instance refresh: release \(release) "
            + "(now \(currentRelease ?? "none")), \(perBatch) at a time (at least \(minHealthyPercentage)% in service, "
            + "\(instanceWarmup) s warm-up), from a new version of launch template \(launchTemplateID) made from version \(fromVersion)"
            + (imageID != currentImageID ? " with image \(imageID ?? "?") (now \(currentImageID ?? "?"))." : ".")]
        if let refreshUnderWay {
            lines.append(Style.red.apply("Instance refresh \(refreshUnderWay) is under way: the deploy would be refused until it ends.", policy))
        }
        lines.append("Nothing was changed (--dry-run).")
        return lines.joined(separator: "\n")
    }
}

/// The release a launch template version's user data pins (`RELEASE=<id>` after its first line):
/// the shared template's install script installs it instead of the pointer's.
public enum ReleasePin {
    static let marker = "# pinned by adminctl deploy --refresh"

    public static func pinned(_ userData: String, release: String) -> String {
        var lines = unpinned(userData).components(separatedBy: "\n")
        let pin = "RELEASE=\(release)  \(marker)"
        if lines.first?.hasPrefix("#!") == true {
            lines.insert(pin, at: 1)
        } else {
            lines.insert(pin, at: 0)
        }
        return lines.joined(separator: "\n")
    }

    public static func unpinned(_ userData: String) -> String {
        userData.components(separatedBy: "\n").filter { !($0.hasPrefix("RELEASE=") && $0.hasSuffix(marker)) }.joined(separator: "\n")
    }

    /// The release pinned, if any.
    public static func release(in userData: String) -> String? {
        userData.components(separatedBy: "\n").first { $0.hasPrefix("RELEASE=") && $0.hasSuffix(marker) }
            .map { String($0.dropFirst("RELEASE=".count).dropLast(marker.count)).trimmingCharacters(in: .whitespaces) }
    }
}
