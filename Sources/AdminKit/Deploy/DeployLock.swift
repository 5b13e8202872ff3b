import AWS
import Foundation
import Nuvola
import Synchronization

/// An environment's deploy lock in SSM Parameter Store (`DeployLockRules` says how it works):
/// taken atomically, renewed in the background while the work runs, released when it ends,
/// fails or is cancelled; a lease that ran out (a killed deploy) is taken over.
public struct DeployLock: Sendable {
    public var ssm: SSM
    public var environment: AppEnvironment
    /// `/<project>/<env>/deploy-lock/`.
    public var prefix: String
    public var lease: TimeInterval
    public var clock: @Sendable () -> Date

    public init(ssm: SSM, names: ParameterNames, environment: AppEnvironment, lease: TimeInterval,
                clock: @escaping @Sendable () -> Date = Date.init) {
        self.ssm = ssm
        self.environment = environment
        prefix = names.deployLock(environment)
        self.lease = lease
        self.clock = clock
    }

    /// Times with milliseconds: whole seconds would end a lease up to a second early.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
        }
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    /// Reads times with or without fractional seconds.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
        }
        return decoder
    }()

    /// Every generation stored (unreadable values are skipped: they are not ours).
    public func generations() async throws -> [DeployLockRules.Generation] {
        var result: [DeployLockRules.Generation] = []
        for try await page in ssm.getParametersByPath(String(prefix.dropLast()), recursive: false) {
            for parameter in page {
                guard let number = DeployLockRules.generation(ofName: parameter.Name), let value = parameter.Value,
                      let lease = try? Self.decoder.decode(DeployLease.self, from: Data(value.utf8)) else { continue }
                result.append((number, lease))
            }
        }
        return result
    }

    /// The lease in force, if any (released ones included: `isReleased` tells).
    public func current() async throws -> DeployLease? {
        DeployLockRules.current(try await generations())?.lease
    }

    /// The person running this: `user@host (pid N)`.
    public static func holderName(environment: [String: String]) -> String {
        let user = environment["USER"] ?? environment["LOGNAME"] ?? getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) }
            ?? String(getuid())
        return "\(user)@\(ProcessInfo.processInfo.hostName) (pid \(getpid()))"
    }

    /// Takes the lock or throws `.locked` naming its holder. `notice` hears of a takeover.
    public func acquire(holder: String, purpose: String, release: String? = nil,
                        notice: @Sendable (String) -> Void = { _ in }) async throws -> DeployLockHold {
        let decision = DeployLockRules.decide(try await generations(), now: clock())
        let number: Int
        switch decision {
        case .refused(let holding, _):
            throw Self.refusal(holding, environment: environment, now: clock())
        case .take(let next):
            number = next
        case .takeOver(let next, let expired):
            number = next
            notice("Taking over the \(environment.rawValue) deploy lock: \(expired.holder)'s lease (\(expired.purpose)) "
                + "expired at \(Self.time(expired.expiresAt)) without being released.")
        }
        let lease = DeployLease(holder: holder, purpose: purpose, release: release, now: clock(), lease: self.lease)
        do {
            try await create(lease, generation: number)
        } catch let error as AWSError where error.code == "ParameterAlreadyExists" {
            // Another deploy created this generation first — or our own first attempt did and its
            // answer was lost before a retry: the token tells which.
            let now = try await generations()
            if DeployLockRules.standing(of: number, token: lease.token, in: now) != .held {
                let winner = DeployLockRules.current(now)?.lease
                throw winner.map { Self.refusal($0, environment: environment, now: clock()) }
                    ?? DeployError(.locked, "Another deploy took the \(environment.rawValue) lock at the same moment; try again.")
            }
        }
        // Older generations are history now; a holder that was taken over learns it from ours.
        for old in try await generations() where old.number < number {
            try? await ssm.deleteParameter(prefix + DeployLockRules.name(of: old.number))
        }
        return DeployLockHold(lock: self, generation: number, lease: lease)
    }

    /// `--force-unlock`: a released generation over whatever holds the lock now, so the next
    /// deploy can start and a holder still running learns at its next renewal that it lost it.
    /// Returns the lease that was in force (nil when the lock was free).
    @discardableResult
    public func forceUnlock(by holder: String) async throws -> DeployLease? {
        let generations = try await generations()
        let current = DeployLockRules.current(generations)
        guard let current, !current.lease.isFree(at: clock()) else { return nil }
        let marker = DeployLease(holder: holder, purpose: "force-unlock of \(current.lease.holder)'s lock", now: clock(), lease: 0)
            .released(at: clock())
        try await create(marker, generation: current.number + 1)
        return current.lease
    }

    func encode(_ lease: DeployLease) throws -> String {
        String(decoding: try Self.encoder.encode(lease), as: UTF8.self)
    }

    /// A new generation; ParameterAlreadyExists when another process created it first.
    func create(_ lease: DeployLease, generation: Int) async throws {
        try await write(lease, generation: generation, overwrite: false)
    }

    func write(_ lease: DeployLease, generation: Int, overwrite: Bool = true) async throws {
        try await ssm.putParameter(name: prefix + DeployLockRules.name(of: generation), value: try encode(lease), overwrite: overwrite,
                                   description: "adminctl deploy lock of \(environment.rawValue)")
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    static func refusal(_ lease: DeployLease, environment: AppEnvironment, now: Date) -> DeployError {
        let left = max(0, Int(lease.expiresAt.timeIntervalSince(now).rounded(.up)))
        let what = lease.release.map { "\(lease.purpose) of \($0)" } ?? lease.purpose
        return DeployError(.locked, "\(environment.rawValue) is locked by \(lease.holder) (\(what), since \(time(lease.acquiredAt)), "
            + "lease renewed \(time(lease.renewedAt)), expires in \(left) s unless renewed). Wait for it to finish; if that "
            + "deploy is gone, its lease runs out by itself and the next deploy takes over, or run "
            + "`adminctl deploy \(environment.rawValue) --force-unlock` (or `adminctl release build \(environment.rawValue) "
            + "--force-unlock`) to free it now.")
    }
}

/// A lock this process holds: renewed by `renewing`, let go by `release`.
public final class DeployLockHold: Sendable {
    public let lock: DeployLock
    public let generation: Int
    private let state: Mutex<(lease: DeployLease, lost: DeployError?)>

    init(lock: DeployLock, generation: Int, lease: DeployLease) {
        self.lock = lock
        self.generation = generation
        state = Mutex((lease, nil))
    }

    public var lease: DeployLease { state.withLock { $0.lease } }
    /// Why the lock was lost, once it was.
    public var lost: DeployError? { state.withLock { $0.lost } }

    /// Records which release the work is about (shown to whoever is refused meanwhile).
    public func describe(release: String) async throws {
        let next = state.withLock { state in
            state.lease.release = release
            return state.lease
        }
        try await renew(next)
    }

    /// One renewal: look first (a newer generation means the lease was taken over), then write.
    func renewOnce() async throws {
        try await renew(lease.renewed(at: lock.clock(), lease: lock.lease))
    }

    private func renew(_ next: DeployLease) async throws {
        let generations = try await lock.generations()
        switch DeployLockRules.standing(of: generation, token: next.token, in: generations) {
        case .held:
            try await lock.write(next, generation: generation)
            // A renewal computed before a `describe` must not drop its label (the store has it again at the next renewal).
            state.withLock { state in
                let label = state.lease.release
                state.lease = next
                if state.lease.release == nil { state.lease.release = label }
            }
        case .overtaken(let by):
            throw loseLock(DeployError(.lockLost, "The \(lock.environment.rawValue) deploy lock was taken from this process by "
                + "\(by.holder) (\(by.purpose)) at \(DeployLock.time(by.acquiredAt)); what it was doing was stopped."))
        case .missing:
            throw loseLock(DeployError(.lockLost, "The \(lock.environment.rawValue) deploy lock this process held is gone from "
                + "Parameter Store (\(lock.prefix)); what it was doing was stopped."))
        }
    }

    private func loseLock(_ error: DeployError) -> DeployError {
        state.withLock { $0.lost = $0.lost ?? error }
        return error
    }

    /// Runs `body` while renewing the lease every third of it. When the lease cannot be kept (it
    /// was taken over, or renewals failed until it nearly ran out) `body` is cancelled and
    /// `.lockLost` thrown. The lock is released afterwards whatever happened, cancellation included.
    public func holding<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let interval = DeployLockRules.renewalInterval(lease: lock.lease)
        do {
            let value = try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                        do {
                            try await self.renewOnce()
                        } catch let error as DeployError where error.kind == .lockLost {
                            throw error
                        } catch is CancellationError {
                            throw CancellationError()
                        } catch {
                            // A failed renewal is retried at the next tick, unless the lease is nearly out.
                            if DeployLockRules.mustStop(lastRenewal: self.lease, now: self.lock.clock(), margin: interval / 2) {
                                throw self.loseLock(DeployError(.lockLost, "The \(self.lock.environment.rawValue) deploy lock "
                                    + "could not be renewed before its lease ran out (\(error)); what this process was doing was stopped."))
                            }
                        }
                    }
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else { throw CancellationError() }
                return value
            }
            await release()
            return value
        } catch {
            await release()
            if let lost { throw lost }
            throw error
        }
    }

    /// Lets go, unless this generation is no longer the one in force: a released generation is
    /// created after it (never overwritten), so a write to ours still on its way (a renewal or a
    /// `describe` cut off by the end of the work or by Ctrl-C, which Parameter Store may apply
    /// after this) cannot put a held lease back. Runs in a task of its own so that a cancelled
    /// caller still releases.
    public func release() async {
        guard lost == nil else { return }
        let hold = self
        await Task {
            guard let generations = try? await hold.lock.generations(),
                  DeployLockRules.standing(of: hold.generation, token: hold.lease.token, in: generations) == .held else { return }
            try? await hold.lock.create(hold.lease.released(at: hold.lock.clock()), generation: hold.generation + 1)
        }.value
    }
}
