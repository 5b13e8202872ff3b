import AWS
import Foundation
import HTTP
import Synchronization
import Testing
import TestSupport

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let now = Mutex(Date())
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var read: @Sendable () -> Date { { [self] in now.withLock { $0 } } }
}

func sharedConfig(config: String = "", credentials: String = "") -> SharedConfig {
    SharedConfig(config: ConfigFile(parsing: config), credentials: ConfigFile(parsing: credentials),
                 configPath: "/tmp/config", credentialsPath: "/tmp/credentials")
}

@Suite struct CredentialsChainTests {
    let http = HTTPClient(environment: [:])
    let noIMDS = ["AWS_EC2_METADATA_DISABLED": "true"]

    @Test func environmentBeatsProfile() async throws {
        let shared = sharedConfig(credentials: "[default]\naws_access_key_id = AKIAPROFILE00000001\naws_secret_access_key = p\n")
        let environment = noIMDS.merging(["AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT0001", "AWS_SECRET_ACCESS_KEY": "e"]) { $1 }
        let chain = DefaultCredentialsChain(environment: environment, shared: shared, region: "eu-west-3", http: http)
        #expect(try await chain.credentials().accessKeyID == "AKIAENVIRONMENT0001")
        let profileOnly = DefaultCredentialsChain(environment: noIMDS, shared: shared, region: "eu-west-3", http: http)
        let found = try await profileOnly.credentials()
        #expect(found.accessKeyID == "AKIAPROFILE00000001")
        #expect(found.source == .profile("default"))
    }

    @Test func explicitlyNamedMissingProfileIsAnErrorNotAFallThrough() async throws {
        let chain = DefaultCredentialsChain(environment: noIMDS.merging(["AWS_PROFILE": "prod"]) { $1 },
                                            shared: sharedConfig(), region: "eu-west-3", http: http)
        let error = await #expect(throws: CredentialsError.self) { try await chain.credentials() }
        #expect(error?.description == "Profile prod (from AWS_PROFILE) is not in /tmp/config or /tmp/credentials.")
    }

    @Test func nothingFoundListsWhereWeLooked() async throws {
        let chain = DefaultCredentialsChain(environment: noIMDS, shared: sharedConfig(), region: "eu-west-3", http: http)
        let error = await #expect(throws: CredentialsError.self) { try await chain.credentials() }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("No AWS credentials found."))
        #expect(text.contains("  - environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set"))
        #expect(text.contains("  - instance metadata: disabled by AWS_EC2_METADATA_DISABLED"))
    }

    @Test func credentialProcessOutputIsUsedAndItsFailureExplained() async throws {
        let json = #"{"Version": 1, "AccessKeyId": "AKIAPROCESS00000001", "SecretAccessKey": "proc-secret", "SessionToken": "tok", "Expiration": "2030-01-01T00:00:00Z"}"#
        let shared = sharedConfig(config: "[profile tool]\ncredential_process = printf '%s' '\(json)'\n[profile broken]\ncredential_process = sh -c 'echo nope >&2; exit 3'\n")
        let provider = try ProfileCredentialsProvider(profile: "tool", shared: shared, environment: [:], region: "eu-west-3", http: http)
        let found = try await provider.credentials()
        #expect(found.accessKeyID == "AKIAPROCESS00000001")
        #expect(found.sessionToken == "tok")
        #expect(found.expiration == Date(timeIntervalSince1970: 1_893_456_000))
        let broken = try ProfileCredentialsProvider(profile: "broken", shared: shared, environment: [:], region: "eu-west-3", http: http)
        let error = await #expect(throws: CredentialsError.self) { try await broken.credentials() }
        #expect(error?.description == "credential_process of profile broken exited with status 3: nope\n")
    }

    @Test func sourceProfileLoopsAreRefused() async throws {
        let shared = sharedConfig(config: "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n")
        let provider = try ProfileCredentialsProvider(profile: "a", shared: shared, environment: [:], region: "eu-west-3", http: http)
        let error = await #expect(throws: CredentialsError.self) { try await provider.credentials() }
        #expect(error?.description == "Profiles a -> b -> a form a source_profile loop.")
    }

    @Test func cacheRefreshesOnlyNearExpiry() async throws {
        let clock = TestClock()
        final class Counter: Sendable {
            let value = Mutex(0)
        }
        struct Counting: CredentialsProvider {
            let counter: Counter
            let expiresIn: TimeInterval
            let clock: @Sendable () -> Date
            func credentials(forceRefresh: Bool) async throws -> Credentials {
                let serial = counter.value.withLock { $0 += 1; return $0 }
                return Credentials(accessKeyID: "ASIA\(serial)", secretAccessKey: "s", sessionToken: "t",
                                   expiration: clock().addingTimeInterval(expiresIn), source: .instanceMetadata)
            }
        }
        let source = Counting(counter: Counter(), expiresIn: 900, clock: clock.read)
        let cache = CachedCredentialsProvider(source, now: clock.read)
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        clock.advance(500)
        #expect(try await cache.credentials().accessKeyID == "ASIA1")  // 400 s left > 300 s margin
        clock.advance(200)
        #expect(try await cache.credentials().accessKeyID == "ASIA2")  // 200 s left: refreshed
        #expect(try await cache.credentials(forceRefresh: true).accessKeyID == "ASIA3")
    }
}

@Suite("IMDSv2 against a local metadata server")
struct InstanceMetadataTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/imds.py").path
    let http = HTTPClient(environment: [:])

    @Test func tokenThenRoleCredentialsThenRegion() async throws {
        let imds = try await PythonServer.start(Self.script)
        defer { imds.stop() }
        let environment = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url("")]
        let metadata = InstanceMetadata(environment: environment, http: http)
        let credentials = try await InstanceMetadataCredentialsProvider(metadata: metadata).credentials()
        #expect(credentials.accessKeyID == "ASIAIMDS000000000001")
        #expect(credentials.sessionToken == "imds-session-1")
        #expect(credentials.source == .instanceMetadata)
        #expect(try #require(credentials.expiration).timeIntervalSinceNow > 3500)
        #expect(try await metadata.region() == "eu-west-3")

        let log = try JSONDecoder().decode([[String: String?]].self,
                                           from: Data(try await http.send(HTTPRequest(url: imds.url("/_log"))).body))
        #expect(log.first?["method"] == "PUT")
        #expect(log.first?["ttl"] == "21600")
        #expect(log.filter { $0["method"] == "GET" }.allSatisfy { $0["token"] == "imds-token-0123456789" })
        #expect(log.filter { $0["method"] == "GET" }.count == 3)

        // The whole chain, with no region configured: it comes from metadata too.
        let configuration = try await AWSConfiguration.resolve(environment: environment.merging(["HOME": "/nonexistent"]) { $1 },
                                                               http: http)
        #expect(configuration.region == Region("eu-west-3", source: .instanceMetadata))
        #expect(try await configuration.credentials.credentials().accessKeyID.hasPrefix("ASIAIMDS"))
    }

    @Test func shortLivedCredentialsAreRefreshedBeforeTheyExpire() async throws {
        let imds = try await PythonServer.start(Self.script, ["--lifetime", "120"])
        defer { imds.stop() }
        let metadata = InstanceMetadata(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url("")], http: http)
        let cache = CachedCredentialsProvider(InstanceMetadataCredentialsProvider(metadata: metadata))
        let first = try await cache.credentials().accessKeyID
        let second = try await cache.credentials().accessKeyID
        #expect(first != second, "credentials 2 minutes from expiry are inside the 5-minute margin")
    }

    @Test func unreachableMetadataIsExplained() async throws {
        let metadata = InstanceMetadata(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"], http: http)
        let error = await #expect(throws: CredentialsError.self) {
            try await InstanceMetadataCredentialsProvider(metadata: metadata).credentials()
        }
        #expect(error?.description == "instance metadata at http://127.0.0.1:9 unreachable: could not connect")
    }
}

@Suite("AssumeRole through a profile, against the simulator with authentication on")
struct AssumeRoleTests {
    @Test func roleProfileAssumesTheRoleFromItsSourceProfile() async throws {
        let fleet = try await Fleet.shared()
        let iam = IAM(fleet.client())
        let roleName = unique("deployer")
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/fleet-admin"},"Action":"sts:AssumeRole"}]}"#
        let role = try await iam.createRole(name: roleName, assumeRolePolicy: trust)
        try await iam.putRolePolicy(role: roleName, name: "all",
                                    document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        let shared = sharedConfig(
            config: "[profile deploy]\nrole_arn = \(role.arn)\nsource_profile = admin\nrole_session_name = ci\nregion = eu-west-3\n",
            credentials: "[admin]\naws_access_key_id = \(fleet.environment["AWS_ACCESS_KEY_ID"]!)\naws_secret_access_key = \(fleet.environment["AWS_SECRET_ACCESS_KEY"]!)\n")
        let environment = ["AWS_PROFILE": "deploy", "AWS_ENDPOINT_URL": fleet.endpoint, "AWS_EC2_METADATA_DISABLED": "true"]
        let http = HTTPClient(environment: [:])
        let chain = CachedCredentialsProvider(DefaultCredentialsChain(environment: environment, shared: shared,
                                                                      region: "eu-west-3", http: http))
        let assumed = try await chain.credentials()
        #expect(assumed.sessionToken != nil)
        #expect(assumed.expiration != nil)
        #expect(assumed.source == .profile("deploy"))
        let client = AWSClient(AWSConfiguration(region: Region("eu-west-3"), credentials: chain, environment: environment,
                                                shared: shared, http: http))
        let identity = try await STS(client).getCallerIdentity()
        #expect(identity.arn == "arn:aws:sts::123456789012:assumed-role/\(roleName)/ci")
    }
}
