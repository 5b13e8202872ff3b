import Foundation
import HTTP

/// The EC2 instance metadata service, spoken IMDSv2 style: a session token first (PUT), then
/// reads with that token. `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it (tests run a local one).
public struct InstanceMetadata: Sendable {
    public var endpoint: String
    let http: HTTPClient
    let timeouts = HTTPTimeouts(connect: .seconds(1), total: .seconds(3))
    static let tokenTTLSeconds = 21600

    public init(environment: [String: String], http: HTTPClient) {
        var endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.http = http
    }

    func token() async throws -> String {
        let request = HTTPRequest(method: .put, url: endpoint + "/latest/api/token",
                                  headers: ["X-aws-ec2-metadata-token-ttl-seconds": String(Self.tokenTTLSeconds)],
                                  timeouts: timeouts)
        let response = try await http.send(request)
        guard response.status == 200, !response.body.isEmpty else {
            throw CredentialsError("instance metadata refused a session token (HTTP \(response.status))")
        }
        return response.text
    }

    /// GETs a metadata path ("/latest/meta-data/placement/region").
    public func get(_ path: String, token: String? = nil) async throws -> String {
        let session: String
        if let token { session = token } else { session = try await self.token() }
        let request = HTTPRequest(url: endpoint + path, headers: ["X-aws-ec2-metadata-token": session], timeouts: timeouts)
        let response = try await http.send(request)
        guard response.status == 200 else {
            throw CredentialsError("instance metadata \(path) answered HTTP \(response.status)")
        }
        return response.text
    }

    /// The instance's region, for when none is configured.
    public func region() async throws -> String {
        try await get("/latest/meta-data/placement/region")
    }
}

/// The instance profile's role credentials, from instance metadata.
public struct InstanceMetadataCredentialsProvider: CredentialsProvider {
    let metadata: InstanceMetadata

    public init(metadata: InstanceMetadata) { self.metadata = metadata }

    struct RoleCredentials: Decodable {
        var Code: String?
        var AccessKeyId: String
        var SecretAccessKey: String
        var Token: String
        var Expiration: String
    }

    public func credentials(forceRefresh: Bool) async throws -> Credentials {
        let token: String
        do {
            token = try await metadata.token()
        } catch let error as HTTPError {
            throw CredentialsError("instance metadata at \(metadata.endpoint) unreachable: \(error.summary)")
        }
        let roles = try await metadata.get("/latest/meta-data/iam/security-credentials/", token: token)
        guard let role = roles.split(separator: "\n").first.map(String.init), !role.isEmpty else {
            throw CredentialsError("this instance has no instance profile (no role in instance metadata)")
        }
        let json = try await metadata.get("/latest/meta-data/iam/security-credentials/\(role)", token: token)
        guard let parsed = try? JSONDecoder().decode(RoleCredentials.self, from: Data(json.utf8)),
              parsed.Code == nil || parsed.Code == "Success" else {
            throw CredentialsError("instance metadata returned unusable credentials for role \(role)")
        }
        return Credentials(accessKeyID: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey,
                           sessionToken: parsed.Token, expiration: ISO8601.parse(parsed.Expiration),
                           source: .instanceMetadata)
    }
}
