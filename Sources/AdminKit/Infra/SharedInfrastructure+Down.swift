import AWS
import Foundation
import Host
import Nuvola
import Terminal

/// `adminctl infra down`: the shared stack deleted, its databases kept as final snapshots and its
/// buckets (releases, dumps, logs) kept, unless the admin asks for the data to go too.
extension SharedInfrastructure {
    /// What `infra down` would do, read before anything is touched.
    public struct DownPlan: Sendable, Encodable {
        public var stack: String
        public var stackID: String?
        public var status: String?
        public var resources: Int
        /// The RDS instance identifiers the stack holds.
        public var databases: [String]
        /// The buckets the stack holds (DeletionPolicy Retain: CloudFormation leaves them).
        public var buckets: [String]
        public var deleteData: Bool
        /// Stacks that stand on this one (they import its exports, or are this project's developer
        /// stacks): while any exists, nothing is deleted.
        public var dependents: [String]
        public var exists: Bool { stackID != nil }

        public func render(_ policy: ColorPolicy) -> String {
            guard exists else { return "Stack \(stack) does not exist: nothing to delete." }
            var lines = ["Stack \(stack) (\(status ?? "?")): \(resources) resources will be deleted."]
            if deleteData {
                lines.append(Style.red.apply("With --delete-data, the data goes too, for good:", policy))
                lines += databases.map { "  - database \($0), and the final snapshot CloudFormation takes of it" }
                lines += buckets.map { "  - bucket \($0) and every object version in it (releases, dumps, logs)" }
            } else {
                lines += databases.map { "  kept: database \($0) as a final snapshot (restorable with aws rds restore-db-instance-from-db-snapshot)" }
                lines += buckets.map { "  kept: bucket \($0) and its contents" }
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Reads the stack, its resources and what depends on it; refuses (throws) a stack that is
    /// changing or that other stacks still stand on.
    public func downPlan(deleteData: Bool) async throws -> DownPlan {
        guard let found = try await cloudFormation.stack(stack.name), found.status != "DELETE_COMPLETE" else {
            return DownPlan(stack: stack.name, resources: 0, databases: [], buckets: [], deleteData: deleteData, dependents: [])
        }
        if found.status.hasSuffix("_IN_PROGRESS"), found.status != "REVIEW_IN_PROGRESS" {
            throw InfraError(.busy, "Stack \(stack.name) is \(found.status): another change is under way. Wait for it to finish "
                + "(`adminctl infra status`), then run `adminctl infra down` again.")
        }
        let resources = try await cloudFormation.listStackResources(found.id).all { $0 }.filter { $0.status != "DELETE_COMPLETE" }
        let standing = try await dependents(of: found)
        let plan = DownPlan(stack: stack.name, stackID: found.id, status: found.status, resources: resources.count,
                            databases: resources.filter { $0.type == "AWS::RDS::DBInstance" }.map(\.physicalID).sorted(),
                            buckets: Self.buckets(of: found, resources: resources),
                            deleteData: deleteData, dependents: standing.map(\.name))
        if !plan.dependents.isEmpty {
            let owners = standing.compactMap(\.developer)
            let how = owners.isEmpty ? "Remove them first" : "Offboard the developers first ("
                + owners.map { "`adminctl offboard \($0) --yes`" }.joined(separator: ", ") + "; `adminctl devs` lists them)"
            throw InfraError(.dependents, "Stack \(stack.name) cannot be deleted while other stacks stand on it: "
                + plan.dependents.joined(separator: ", ") + ". \(how); nothing was changed.")
        }
        return plan
    }

    /// The stack's buckets: those it lists, and those its parameters and outputs name (a bucket
    /// kept by DeletionPolicy leaves the stack's resources after a failed deletion, not the account).
    static func buckets(of stack: CloudFormation.Stack, resources: [CloudFormation.Resource]) -> [String] {
        let keys = ["ArtifactsBucketName", "DumpsBucketName", "LogsBucketName"]
        let named = keys.compactMap { stack.parameters[$0] } + keys.compactMap { stack.outputs[$0] }
        return Array(Set(resources.filter { $0.type == "AWS::S3::Bucket" }.map(\.physicalID) + named)).filter { !$0.isEmpty }.sorted()
    }

    /// The stacks importing one of the stack's exports (CloudFormation refuses to delete it while
    /// any does), and this project's other adminctl stacks (one per developer).
    func dependents(of found: CloudFormation.Stack) async throws -> [(name: String, developer: String?)] {
        var names = Set<String>()
        let exports = try await cloudFormation.listExports().all { $0 }.filter { $0.exportingStackID == found.id }
        for export in exports {
            names.formUnion(try await cloudFormation.listImports(exportName: export.name))
        }
        let live = try await cloudFormation.describeStacks().all { $0 }.filter { $0.status != "DELETE_COMPLETE" }
        let others = live.filter {
            $0.name != found.name && $0.tags[NuvolaTag.project] == stack.project && $0.tags[NuvolaTag.managedBy] == "adminctl"
        }
        names.formUnion(others.map(\.name))
        names.remove(found.name)
        let byName = Dictionary(live.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return names.sorted().map { name in
            let tags = byName[name]?.tags ?? [:]
            return (name, tags[NuvolaTag.role] == DeveloperStackNaming.stackRole ? tags[NuvolaTag.owner] : nil)
        }
    }

    /// What `infra down` did.
    public struct DownReport: Sendable, Encodable {
        public var stack: String
        public var deleted: Bool
        public var status: String?
        /// Final snapshots of the databases, kept (or, with --delete-data, deleted).
        public var snapshots: [String]
        public var keptBuckets: [String]
        public var deletedBuckets: [String]
        public var deletedSnapshots: [String]
        public var seconds: Double

        public func render(_ policy: ColorPolicy) -> String {
            guard deleted else { return "Stack \(stack) does not exist: nothing was deleted." }
            var lines = ["Stack \(stack) is deleted (\(Format.duration(seconds)))."]
            lines += snapshots.map { "Kept: final snapshot \($0)." }
            lines += keptBuckets.map { "Kept: bucket \($0)." }
            lines += deletedSnapshots.map { "Deleted: snapshot \($0)." }
            lines += deletedBuckets.map { "Deleted: bucket \($0) and its contents." }
            if !keptBuckets.isEmpty {
                lines.append("A new `adminctl infra up` needs other bucket names (buckets.* in adminctl.toml) while these exist.")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Deletes the stack the plan read: lifts the databases' deletion protection (and puts it back
    /// if the deletion fails), deletes the stack following its events on `console`'s stderr, then
    /// with `deleteData` removes the final snapshots and the buckets.
    public func down(_ plan: DownPlan, console: Console) async throws -> DownReport {
        guard let stackID = plan.stackID else {
            return DownReport(stack: plan.stack, deleted: false, snapshots: [], keptBuckets: [], deletedBuckets: [],
                              deletedSnapshots: [], seconds: 0)
        }
        let started = ContinuousClock.now
        let rds = RDS(client)
        var lifted: [String] = []
        var seen = Set<String>()
        do {
            for identifier in plan.databases {
                guard let instance = try await rds.instance(identifier), instance.deletionProtection else { continue }
                console.note("Turning off deletion protection of \(identifier)…")
                try await rds.setDeletionProtection(identifier, false)
                lifted.append(identifier)
            }
            seen = Set(try await deployment.firstEvents(of: stackID).map(\.id))
            console.note("Deleting \(plan.stack)…")
            try await cloudFormation.deleteStack(stackID)
        } catch {
            // Stopped (Ctrl-C, an error) before CloudFormation took the deletion: the databases are
            // protected again, as if nothing had been asked. Stopped while DeleteStack was on its
            // way, the request may have arrived: a stack already deleting keeps them unprotected, or
            // its databases would fail the deletion it began.
            await Self.protect(lifted, rds: rds, unlessDeleting: stackID, cloudFormation: cloudFormation)
            throw error
        }
        let progress = StackProgress(console: console, stack: plan.stack, verb: "deleting", total: plan.resources)
        let settled: CloudFormation.Stack, failures: [CloudFormation.Event]
        do {
            (settled, failures) = try await deployment.follow(stackID, seen: &seen) { event in progress.event(event) }
            progress.finish(settled.status, succeeded: settled.status == "DELETE_COMPLETE")
        } catch is CancellationError {
            progress.finish("stopped following", succeeded: false)
            console.note("Stopped following \(plan.stack); CloudFormation carries on with the deletion. "
                + "`adminctl infra status` shows where it is.")
            throw CancellationError()
        } catch {
            progress.finish("failed", succeeded: false)
            throw error
        }
        guard settled.status == "DELETE_COMPLETE" else {
            await Self.protect(lifted, rds: rds)
            throw Self.deletionFailure(of: settled, failures: failures, restored: lifted)
        }
        var report = DownReport(stack: plan.stack, deleted: true, status: settled.status, snapshots: [], keptBuckets: [],
                                deletedBuckets: [], deletedSnapshots: [], seconds: 0)
        for identifier in plan.databases {
            report.snapshots += try await rds.snapshots(ofInstance: identifier, type: "manual").map(\.identifier)
        }
        if plan.deleteData {
            try await deleteData(plan, into: &report, console: console)
        } else {
            report.keptBuckets = plan.buckets
        }
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    /// `--delete-data`: the final snapshots the deletion left and the buckets (every object
    /// version first, as S3 deletes only an empty bucket).
    func deleteData(_ plan: DownPlan, into report: inout DownReport, console: Console) async throws {
        let rds = RDS(client)
        for snapshot in report.snapshots {
            console.note("Deleting snapshot \(snapshot)…")
            try await rds.deleteSnapshot(snapshot)
            report.deletedSnapshots.append(snapshot)
        }
        report.snapshots = []
        let s3 = S3(client)
        for bucket in plan.buckets where try await s3.bucketExists(bucket) {
            console.note("Emptying and deleting bucket \(bucket)…")
            for try await page in s3.listObjectVersions(bucket: bucket) {
                for version in page { try await s3.deleteObject(bucket: bucket, key: version.key, versionID: version.versionID) }
            }
            try await s3.deleteBucket(bucket)
            report.deletedBuckets.append(bucket)
        }
    }

    /// Turns deletion protection back on for the databases that still exist, even after
    /// cancellation (a detached task: the request must go out whatever stopped the command);
    /// with `stackID`, not once CloudFormation is deleting that stack (one that cannot be read is
    /// taken as not deleting: a deletion that then fails on a protected database is the lesser harm).
    static func protect(_ identifiers: [String], rds: RDS, unlessDeleting stackID: String? = nil,
                        cloudFormation: CloudFormation? = nil) async {
        guard !identifiers.isEmpty else { return }
        await Task.detached {
            if let stackID, let cloudFormation {
                let status = try? await cloudFormation.stack(stackID)?.status
                if status == "DELETE_IN_PROGRESS" || status == "DELETE_COMPLETE" { return }
            }
            for identifier in identifiers where (try? await rds.instance(identifier)) != nil {
                try? await rds.setDeletionProtection(identifier, true)
            }
        }.value
    }

    /// The first resource that could not be deleted and why, what is left, and the next step.
    static func deletionFailure(of stack: CloudFormation.Stack, failures: [CloudFormation.Event], restored: [String]) -> InfraError {
        let first = failures.first { $0.logicalID != stack.name } ?? failures.first
        var text = "Deleting \(stack.name) failed"
        if let first {
            text += ": \(first.logicalID) (\(first.resourceType)) \(first.status)"
            if let reason = first.reason, !reason.isEmpty { text += ": \(reason)" }
        } else if let reason = stack.statusReason {
            text += ": \(reason)"
        }
        text += ". The stack is \(stack.status); what was deleted is gone, the rest is still there"
        if !restored.isEmpty { text += ", and deletion protection is back on \(restored.joined(separator: ", "))" }
        text += ". Fix the cause, then run `adminctl infra down` again."
        return InfraError(.deployFailed, text)
    }
}
