import Synchronization

/// The SDKs' "standard" retry mode: a few attempts, exponential backoff with full jitter capped
/// at 20 s, and a retry quota so a struggling service is not hammered by every caller at once.
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
public final class RetryStrategy: Sendable {
    public let maxAttempts: Int
    public let maxBackoff: Duration
    /// Random numbers in [0, 1); tests pass a fixed sequence.
    private let random: @Sendable () -> Double
    private let tokens: Mutex<Int>

    public static let quotaCapacity = 500
    public static let retryCost = 5
    public static let timeoutRetryCost = 10
    public static let noRetryIncrement = 1

    public init(maxAttempts: Int = 3, maxBackoff: Duration = .seconds(20),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.maxAttempts = max(1, maxAttempts)
        self.maxBackoff = maxBackoff
        self.random = random
        self.tokens = Mutex(Self.quotaCapacity)
    }

    /// `AWS_MAX_ATTEMPTS` when set to a positive number, else 3.
    public convenience init(environment: [String: String]) {
        let attempts = environment["AWS_MAX_ATTEMPTS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 3
        self.init(maxAttempts: attempts)
    }

    /// Tokens left in the retry quota.
    public var availableTokens: Int { tokens.withLock { $0 } }

    /// Whether to retry after `attempt` (1-based) failed with `error`: the delay, and the tokens
    /// the retry took from the quota (give them back with `recordSuccess`). Nil: give up now.
    public func retry(after attempt: Int, error: AWSError) -> (delay: Duration, cost: Int)? {
        guard error.isTransient, attempt < maxAttempts else { return nil }
        let cost = error.code == AWSError.connectionFailed && error.message.contains("timed out")
            ? Self.timeoutRetryCost : Self.retryCost
        let granted = tokens.withLock { available -> Bool in
            guard available >= cost else { return false }
            available -= cost
            return true
        }
        guard granted else { return nil }
        return (backoff(attempt: attempt), cost)
    }

    /// Full jitter: a random delay between zero and min(2^attempt seconds, the cap).
    public func backoff(attempt: Int) -> Duration {
        let ceiling = min(Double(1 << min(attempt, 30)), maxBackoff.seconds)
        return .milliseconds(Int((random() * ceiling * 1000).rounded(.down)))
    }

    /// A call succeeded: a retried one gives back what its last retry took, a first try adds a token.
    public func recordSuccess(lastRetryCost cost: Int?) {
        tokens.withLock { available in
            available = min(Self.quotaCapacity, available + (cost ?? Self.noRetryIncrement))
        }
    }
}
