import AWS
import Foundation
import Host
import Nuvola
import Terminal

/// `adminctl rotate`: AWS's two-key rotation for one developer. A stale inactive second key is
/// deleted first (a user holds at most two); the new key is created, the new bundle written, the
/// new key proven through STS, the old key's last use read, then the old key deactivated and
/// deleted. If the new key does not work, it is deleted and the previous bundle put back.
public struct KeyRotation: Sendable {
    public var access: DeveloperAccess
    public var bundleDirectory: String
    public var maxAgeDays: Int
    public var dryRun: Bool
    public var now: Date = Date()

    public init(access: DeveloperAccess, bundleDirectory: String, maxAgeDays: Int, dryRun: Bool) {
        self.access = access
        self.bundleDirectory = bundleDirectory
        self.maxAgeDays = maxAgeDays
        self.dryRun = dryRun
    }

    public struct Rotated: Sendable, Encodable {
        public var developer: String
        public var oldKey: String?
        public var newKey: String?
        public var oldKeyLastUsed: Date?
        public var removedStaleKey: String?
        public var bundle: String?
        public var skipped: String?
    }

    public struct Report: Sendable, Encodable {
        public var dryRun: Bool
        public var developers: [Rotated]

        public func render(_ policy: ColorPolicy) -> String {
            developers.map { item in
                if let skipped = item.skipped { return "\(item.developer): \(skipped)" }
                let verb = dryRun ? "would rotate" : "rotated"
                var line = "\(item.developer): \(verb) \(item.oldKey ?? "no key")" + (item.newKey.map { " -> \($0)" } ?? "")
                if let stale = item.removedStaleKey { line += "; stale inactive key \(stale) \(dryRun ? "would be " : "")deleted first" }
                if let used = item.oldKeyLastUsed { line += "; old key last used \(ISO8601DateFormatter().string(from: used))" }
                if let bundle = item.bundle { line += "\n  new access bundle: \(bundle)" }
                return line
            }.joined(separator: "\n")
        }
    }

    /// `names` empty: every developer whose key is older than the maximum age.
    public func run(names: [String], progress: @Sendable (String) -> Void) async throws -> Report {
        var chosen = names
        let all = names.isEmpty
        if all {
            chosen = try await access.developerStacks().compactMap { DeveloperStackNaming.developer(ofStack: $0.name, project: access.project) }
        }
        var results: [Rotated] = []
        for developer in chosen {
            results.append(try await rotate(developer, onlyIfOld: all, progress: progress))
        }
        return Report(dryRun: dryRun, developers: results)
    }

    func rotate(_ developer: String, onlyIfOld: Bool, progress: @Sendable (String) -> Void) async throws -> Rotated {
        let iam = access.iam
        guard try await iam.getUser(developer) != nil else {
            throw AccessError(.unknownDeveloper, "No developer named \(developer) (no IAM user): `adminctl devs` lists them.")
        }
        guard let stack = try await access.cloudFormation.stack(DeveloperStack(project: access.project, developer: developer).name),
              let instance = stack.outputs["InstanceId"] else {
            throw AccessError(.unknownDeveloper, "\(developer) has an IAM user but no developer stack: `adminctl offboard \(developer)` "
                + "cleans it, then `adminctl onboard \(developer)`.")
        }
        var keys = try await iam.listAccessKeys(user: developer)
        var result = Rotated(developer: developer)
        let active = keys.filter { $0.status == "Active" }
        if active.count > 1 {
            throw AccessError(.rotation, "\(developer) has two active keys (\(active.map(\.accessKeyID).joined(separator: ", "))), so "
                + "adminctl cannot tell which one their bundle holds. Deactivate the one they do not use "
                + "(`aws iam update-access-key --user-name \(developer) --access-key-id ID --status Inactive`), then rotate again.")
        }
        let old = active.first
        result.oldKey = old?.accessKeyID
        if onlyIfOld, let created = old?.created, now.timeIntervalSince(created) <= Double(maxAgeDays) * 86_400 {
            result.skipped = "key \(old?.accessKeyID ?? "") is \(Int(now.timeIntervalSince(created) / 86_400)) days old "
                + "(at most \(maxAgeDays)): kept"
            return result
        }
        if let stale = keys.first(where: { $0.status != "Active" }) {
            result.removedStaleKey = stale.accessKeyID
            if !dryRun { try await iam.deleteAccessKey(user: developer, accessKeyID: stale.accessKeyID) }
            keys.removeAll { $0.accessKeyID == stale.accessKeyID }
        }
        if let old { result.oldKeyLastUsed = try await iam.accessKeyLastUsed(old.accessKeyID)?.date }
        guard !dryRun else { return result }

        progress("\(developer): creating a second key…")
        let key = try await iam.createAccessKey(user: developer)
        result.newKey = key.accessKeyID
        let path = AccessBundle.path(directory: bundleDirectory, project: access.project, developer: developer)
        let previous = try? String(contentsOfFile: path, encoding: .utf8)
        do {
            result.bundle = try AccessBundle(project: access.project, developer: developer, region: access.region,
                                             instanceID: instance, key: key).write(directory: bundleDirectory)
            try await verify(key)
        } catch {
            // In a task of its own: after Ctrl-C this task's requests are cancelled, and the new key
            // stayed live (its secret lost) while the next rotate refused two active keys.
            let deleted = await Task.detached { [iam] in
                (try? await iam.deleteAccessKey(user: developer, accessKeyID: key.accessKeyID)) != nil
            }.value
            if let previous { try? SecretFile.write(previous, to: path) } else if result.bundle != nil { try? FileManager.default.removeItem(atPath: path) }
            let cause = error is CancellationError || Task.isCancelled ? "was not proven: the rotation was interrupted" : "did not work (\(error))"
            let fate = deleted ? "it was deleted"
                : "deleting it failed too (`aws iam delete-access-key --user-name \(developer) --access-key-id \(key.accessKeyID)` does it)"
            throw AccessError(.rotation, "The new key of \(developer) \(cause); \(fate), the previous bundle "
                + "put back, and the old key \(old?.accessKeyID ?? "") is unchanged. Run `adminctl rotate \(developer)` again.")
        }
        if let old {
            progress("\(developer): the new key works; deactivating and deleting \(old.accessKeyID)…")
            // Finished even after Ctrl-C: the new bundle is in place, and two active keys would block the next rotate.
            try await Task.detached { [iam] in
                try await iam.updateAccessKey(user: developer, accessKeyID: old.accessKeyID, active: false)
                try await iam.deleteAccessKey(user: developer, accessKeyID: old.accessKeyID)
            }.value
        }
        return result
    }

    /// STS GetCallerIdentity signed with the new key; IAM keys take a few seconds to work on AWS.
    func verify(_ key: IAM.AccessKey) async throws {
        var configuration = try await AWSConfiguration.resolve(
            regionFlag: access.region, explicit: Credentials(accessKeyID: key.accessKeyID, secretAccessKey: key.secretAccessKey, source: .flag),
            environment: access.environment, http: access.configuration.http)
        configuration.retry = access.configuration.retry
        var attempt = 0
        while true {
            do {
                let identity = try await STS(AWSClient(configuration)).getCallerIdentity()
                guard identity.arn.hasSuffix("/\(key.userName)") else {
                    throw AccessError(.rotation, "the new key signs as \(identity.arn), not as \(key.userName)")
                }
                return
            } catch let error as AWSError where error.code == "InvalidClientTokenId" && attempt < 10 {
                attempt += 1
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
