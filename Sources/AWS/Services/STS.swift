import Foundation

/// Who the credentials belong to.
public struct CallerIdentity: Sendable, Equatable, Codable {
    public var account: String
    public var arn: String
    public var userID: String
}

/// AWS Security Token Service: who am I, and temporary credentials for a role.
public struct STS: QueryService {
    let client: AWSClient
    static let version = "2011-06-15"
    static let service = AWSService.sts

    public init(_ client: AWSClient) { self.client = client }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let result = try await call("GetCallerIdentity")
        return CallerIdentity(account: result.string("Account") ?? "", arn: result.string("Arn") ?? "",
                              userID: result.string("UserId") ?? "")
    }

    /// Temporary credentials for `roleARN`, valid for `durationSeconds` (AWS default 1 h).
    public func assumeRole(roleARN: String, sessionName: String, externalID: String? = nil,
                           durationSeconds: Int? = nil, policy: String? = nil) async throws -> Credentials {
        var parameters = QueryParameters()
        parameters.set("RoleArn", roleARN)
        parameters.set("RoleSessionName", sessionName)
        parameters.set("ExternalId", externalID)
        parameters.set("DurationSeconds", durationSeconds)
        parameters.set("Policy", policy)
        let result = try await call("AssumeRole", parameters)
        guard let node = result.child("Credentials"),
              let id = node.string("AccessKeyId"), let secret = node.string("SecretAccessKey") else {
            throw AWSError(service: "STS", operation: "AssumeRole", code: "MalformedResponse",
                           message: "no Credentials in the answer", httpStatus: 200)
        }
        return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: node.string("SessionToken"),
                           expiration: node.date("Expiration"), source: .profile("role \(roleARN)"))
    }
}

/// Credentials of a role, assumed with STS from `source` credentials (a profile's `role_arn`).
public struct AssumeRoleCredentialsProvider: CredentialsProvider {
    let roleARN: String
    let sessionName: String
    let externalID: String?
    let durationSeconds: Int?
    let source: any CredentialsProvider
    let region: String
    let environment: [String: String]
    let shared: SharedConfig
    let http: HTTPClient
    let profileName: String

    public func credentials(forceRefresh: Bool) async throws -> Credentials {
        let configuration = AWSConfiguration(region: Region(region), credentials: source, environment: environment,
                                             shared: shared, http: http)
        do {
            var credentials = try await STS(AWSClient(configuration)).assumeRole(
                roleARN: roleARN, sessionName: sessionName, externalID: externalID, durationSeconds: durationSeconds)
            credentials.source = .profile(profileName)
            return credentials
        } catch let error as AWSError {
            throw CredentialsError("Profile \(profileName) could not assume \(roleARN): \(error)")
        }
    }
}

import HTTP
