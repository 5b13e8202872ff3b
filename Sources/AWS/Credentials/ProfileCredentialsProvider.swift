import Foundation
import HTTP
import Host

/// Credentials described by a profile of the shared config files: static keys, a
/// `credential_process`, or a `role_arn` assumed through STS from a `source_profile` (itself any
/// of these, chains allowed) or from `credential_source` (Environment, Ec2InstanceMetadata).
public struct ProfileCredentialsProvider: CredentialsProvider {
    let name: String
    let settings: [String: String]
    let shared: SharedConfig
    let environment: [String: String]
    let region: String
    let http: HTTPClient
    /// Profiles already on the way here, to refuse source_profile loops.
    let visited: [String]

    public init(profile: String, shared: SharedConfig, environment: [String: String], region: String, http: HTTPClient,
                visited: [String] = []) throws {
        guard let settings = shared.profile(profile) else {
            throw CredentialsError("Profile \(profile) is not in \(shared.configPath) or \(shared.credentialsPath).")
        }
        guard !visited.contains(profile) else {
            throw CredentialsError("Profiles \((visited + [profile]).joined(separator: " -> ")) form a source_profile loop.")
        }
        self.name = profile
        self.settings = settings
        self.shared = shared
        self.environment = environment
        self.region = settings["region"] ?? region
        self.http = http
        self.visited = visited + [profile]
    }

    public func credentials(forceRefresh: Bool) async throws -> Credentials {
        if let roleARN = settings["role_arn"] {
            let source: any CredentialsProvider
            if let sourceProfile = settings["source_profile"], sourceProfile == name {
                // A profile that names itself as source_profile uses its own static keys (the SDKs' rule).
                guard let found = Credentials.fromProfile(name, shared: shared) else {
                    throw CredentialsError("Profile \(name) is its own source_profile but has no static keys.")
                }
                source = StaticCredentialsProvider(found)
            } else if let sourceProfile = settings["source_profile"] {
                source = try ProfileCredentialsProvider(profile: sourceProfile, shared: shared, environment: environment,
                                                        region: region, http: http, visited: visited)
            } else if let credentialSource = settings["credential_source"] {
                switch credentialSource {
                case "Environment":
                    guard let found = Credentials.fromEnvironment(environment) else {
                        throw CredentialsError("Profile \(name) takes its source credentials from the environment, but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set.")
                    }
                    source = StaticCredentialsProvider(found)
                case "Ec2InstanceMetadata":
                    source = InstanceMetadataCredentialsProvider(metadata: InstanceMetadata(environment: environment, http: http))
                default:
                    throw CredentialsError("Profile \(name) has credential_source = \(credentialSource); supported: Environment, Ec2InstanceMetadata.")
                }
            } else {
                throw CredentialsError("Profile \(name) has role_arn but neither source_profile nor credential_source.")
            }
            let assume = AssumeRoleCredentialsProvider(
                roleARN: roleARN, sessionName: settings["role_session_name"] ?? "nuvola-\(Int(Date().timeIntervalSince1970))",
                externalID: settings["external_id"], durationSeconds: settings["duration_seconds"].flatMap(Int.init),
                source: source, region: region, environment: environment, shared: shared, http: http,
                profileName: name)
            return try await assume.credentials(forceRefresh: forceRefresh)
        }
        if let command = settings["credential_process"] {
            return try await ProcessCredentialsProvider(command: command, profile: name).credentials(forceRefresh: forceRefresh)
        }
        if let found = Credentials.fromProfile(name, shared: shared) { return found }
        throw CredentialsError("Profile \(name) has no aws_access_key_id/aws_secret_access_key, credential_process or role_arn.")
    }
}

/// Runs the profile's `credential_process` and reads the JSON it prints (Version 1).
/// The command's output holds secrets: it is parsed, never logged.
public struct ProcessCredentialsProvider: CredentialsProvider {
    let command: String
    let profile: String

    struct Output: Decodable {
        var Version: Int
        var AccessKeyId: String
        var SecretAccessKey: String
        var SessionToken: String?
        var Expiration: String?
    }

    public func credentials(forceRefresh: Bool) async throws -> Credentials {
        let result = try await ChildProcess.run("/bin/sh", ["-c", command], timeout: .seconds(60))
        guard result.succeeded else {
            throw CredentialsError("credential_process of profile \(profile) exited with status \(result.status): "
                                   + result.errorOutput.prefix(300))
        }
        guard let output = try? JSONDecoder().decode(Output.self, from: Data(result.standardOutput)), output.Version == 1 else {
            throw CredentialsError("credential_process of profile \(profile) did not print Version 1 credentials JSON.")
        }
        return Credentials(accessKeyID: output.AccessKeyId, secretAccessKey: output.SecretAccessKey,
                           sessionToken: output.SessionToken, expiration: output.Expiration.flatMap(ISO8601.parse),
                           source: .profile(profile))
    }
}

/// ISO 8601 timestamps as AWS writes them ("2026-11-28T22:14:55Z", with or without fractions).
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
