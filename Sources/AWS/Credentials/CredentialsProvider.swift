import Foundation
import HTTP

/// Something that hands out credentials, refreshing them when they are about to expire.
public protocol CredentialsProvider: Sendable {
    /// Current credentials; `forceRefresh` after AWS said they expired.
    func credentials(forceRefresh: Bool) async throws -> Credentials
}

extension CredentialsProvider {
    public func credentials() async throws -> Credentials { try await credentials(forceRefresh: false) }
}

/// No credentials could be found; `tried` says where we looked and why each source failed.
public struct CredentialsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var tried: [String]

    public init(_ message: String, tried: [String] = []) {
        self.message = message
        self.tried = tried
    }

    public var description: String {
        var text = message
        if !tried.isEmpty { text += "\nLooked in:\n" + tried.map { "  - \($0)" }.joined(separator: "\n") }
        return text
    }
}

/// Fixed credentials (flags, tests).
public struct StaticCredentialsProvider: CredentialsProvider {
    public let value: Credentials
    public init(_ value: Credentials) { self.value = value }
    public func credentials(forceRefresh: Bool) async throws -> Credentials { value }
}

/// Keeps temporary credentials until five minutes before they expire, so concurrent calls share
/// one refresh and requests never go out with credentials about to lapse.
public actor CachedCredentialsProvider: CredentialsProvider {
    private let source: any CredentialsProvider
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private var cached: Credentials?
    private var refreshing: Task<Credentials, any Error>?

    public init(_ source: any CredentialsProvider, refreshMargin: TimeInterval = 300,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.source = source
        self.refreshMargin = refreshMargin
        self.now = now
    }

    public func credentials(forceRefresh: Bool) async throws -> Credentials {
        if !forceRefresh, let cached, !isStale(cached) { return cached }
        if let refreshing { return try await refreshing.value }
        let source = self.source
        let task = Task { try await source.credentials(forceRefresh: forceRefresh) }
        refreshing = task
        defer { refreshing = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }

    private func isStale(_ credentials: Credentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSince(now()) < refreshMargin
    }
}

/// The SDKs' default chain: environment, then the selected profile (static keys,
/// credential_process, or role_arn assumed from a source profile), then EC2 instance metadata.
/// A profile named explicitly by AWS_PROFILE must exist: falling through to another identity
/// would act as someone the admin did not choose.
public struct DefaultCredentialsChain: CredentialsProvider {
    let environment: [String: String]
    let shared: SharedConfig
    let region: String
    let http: HTTPClient

    public init(environment: [String: String], shared: SharedConfig, region: String, http: HTTPClient) {
        self.environment = environment
        self.shared = shared
        self.region = region
        self.http = http
    }

    public func credentials(forceRefresh: Bool) async throws -> Credentials {
        var tried: [String] = []
        if let found = Credentials.fromEnvironment(environment) { return found }
        tried.append("environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set")

        let profile = SharedConfig.profileName(environment: environment)
        if shared.profile(profile) != nil {
            let provider = try ProfileCredentialsProvider(profile: profile, shared: shared, environment: environment,
                                                         region: region, http: http)
            return try await provider.credentials(forceRefresh: forceRefresh)
        }
        if environment["AWS_PROFILE"] != nil {
            throw CredentialsError("Profile \(profile) (from AWS_PROFILE) is not in \(shared.configPath) or \(shared.credentialsPath).")
        }
        tried.append("profile \(profile): not in \(shared.credentialsPath) or \(shared.configPath)")

        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            tried.append("instance metadata: disabled by AWS_EC2_METADATA_DISABLED")
        } else {
            do {
                return try await InstanceMetadataCredentialsProvider(metadata: InstanceMetadata(environment: environment, http: http))
                    .credentials(forceRefresh: forceRefresh)
            } catch {
                tried.append("instance metadata: \(error)")
            }
        }
        throw CredentialsError("No AWS credentials found. Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                               + "set AWS_PROFILE, or run on an EC2 instance with an instance profile.", tried: tried)
    }
}
