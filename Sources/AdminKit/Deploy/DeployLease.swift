import Foundation

/// One generation of an environment's deploy lock: who holds it, since when, for which release,
/// and until when the lease runs unless it is renewed. Stored as JSON in
/// `/<project>/<env>/deploy-lock/<generation>`.
public struct DeployLease: Codable, Sendable, Equatable {
    /// `user@host (pid N)`: what a person needs to find the deploy.
    public var holder: String
    /// Random, per acquisition: tells this process's generation from another's with the same holder.
    public var token: String
    /// What the holder is doing ("release build", "deploy") and the release or ref it is about.
    public var purpose: String
    public var release: String?
    public var acquiredAt: Date
    public var renewedAt: Date
    public var expiresAt: Date
    /// Set when the holder let go (or was force-unlocked): the next deploy takes the next generation.
    public var releasedAt: Date?

    public init(holder: String, token: String = UUID().uuidString, purpose: String, release: String? = nil,
                now: Date, lease: TimeInterval) {
        self.holder = holder
        self.token = token
        self.purpose = purpose
        self.release = release
        acquiredAt = now
        renewedAt = now
        expiresAt = now.addingTimeInterval(lease)
    }

    public var isReleased: Bool { releasedAt != nil }

    /// Released, or its lease ran out: anyone may take the next generation.
    public func isFree(at now: Date) -> Bool { isReleased || expiresAt <= now }

    /// The lease renewed at `now` for `lease` seconds more.
    public func renewed(at now: Date, lease: TimeInterval) -> DeployLease {
        var next = self
        next.renewedAt = now
        next.expiresAt = now.addingTimeInterval(lease)
        return next
    }

    public func released(at now: Date) -> DeployLease {
        var next = self
        next.releasedAt = now
        return next
    }
}

/// The rules of the lock, apart from where it is stored: which generation to create next, and
/// what a holder must conclude when it looks again. SSM Parameter Store has no compare-and-swap
/// on a value, but PutParameter without Overwrite fails with ParameterAlreadyExists when the name
/// exists: so each acquisition creates a new generation, and of two deploys that saw the same
/// free lock exactly one creates the next name.
public enum DeployLockRules {
    /// A generation number and its lease.
    public typealias Generation = (number: Int, lease: DeployLease)

    public enum Decision: Equatable, Sendable {
        /// No lock yet, or the last one was released: create this generation.
        case take(Int)
        /// The holder's lease ran out without a release (a killed or stuck deploy): create this
        /// generation over it.
        case takeOver(Int, expired: DeployLease)
        /// Held, lease running.
        case refused(DeployLease, generation: Int)
    }

    /// The generation in force: the highest number (older ones are leftovers being tidied).
    public static func current(_ generations: [Generation]) -> Generation? {
        generations.max { $0.number < $1.number }
    }

    public static func decide(_ generations: [Generation], now: Date) -> Decision {
        guard let (number, lease) = current(generations) else { return .take(1) }
        if lease.isReleased { return .take(number + 1) }
        if lease.expiresAt <= now { return .takeOver(number + 1, expired: lease) }
        return .refused(lease, generation: number)
    }

    /// What a holder of `generation` (with `token`) finds when it looks again.
    public enum Standing: Equatable, Sendable {
        /// Still the lock in force, and its own.
        case held
        /// A newer generation exists: the lease was taken over (or force-unlocked).
        case overtaken(by: DeployLease)
        /// Its generation is gone or holds another token (deleted by hand, or tidied after a takeover).
        case missing
    }

    public static func standing(of generation: Int, token: String, in generations: [Generation]) -> Standing {
        if let newer = current(generations), newer.number > generation { return .overtaken(by: newer.lease) }
        guard let mine = generations.first(where: { $0.number == generation }), mine.lease.token == token else { return .missing }
        return .held
    }

    /// How often a holder renews: three times a lease, so two renewals may fail (a slow or
    /// throttled call) before the lease can run out.
    public static func renewalInterval(lease: TimeInterval) -> TimeInterval { lease / 3 }

    /// A holder that could not renew must stop before its lease runs out under it, or another
    /// deploy could start while it still works: it gives up at the lease's end minus this margin.
    public static func mustStop(lastRenewal lease: DeployLease, now: Date, margin: TimeInterval) -> Bool {
        now >= lease.expiresAt.addingTimeInterval(-margin)
    }

    /// The parameter name's last component for a generation: zero-padded so names sort.
    public static func name(of generation: Int) -> String { String(format: "%010d", generation) }

    public static func generation(ofName name: String) -> Int? {
        name.split(separator: "/").last.flatMap { Int($0) }
    }
}
