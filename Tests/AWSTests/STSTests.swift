import AWS
import Foundation
import Testing
import TestSupport

@Suite("STS against the simulated cloud with authentication on")
struct STSTests {
    @Test func callerIdentityOfTheAdmin() async throws {
        let fleet = try await Fleet.shared()
        let identity = try await STS(fleet.client()).getCallerIdentity()
        #expect(identity.account == "123456789012")
        #expect(identity.arn == "arn:aws:iam::123456789012:user/fleet-admin")
        #expect(!identity.userID.isEmpty)
    }

    @Test func wrongSecretIsASignatureErrorWithAHint() async throws {
        let fleet = try await Fleet.shared()
        let error = await #expect(throws: AWSError.self) {
            try await STS(fleet.client(secret: "not-the-secret")).getCallerIdentity()
        }
        #expect(error?.code == "SignatureDoesNotMatch")
        #expect(error?.httpStatus == 403)
        #expect(error?.description.hasPrefix("STS GetCallerIdentity failed: SignatureDoesNotMatch (HTTP 403): ") == true)
        #expect(error?.description.contains("Check AWS_SECRET_ACCESS_KEY") == true)
        #expect(error?.description.contains("not-the-secret") == false)
        #expect(error?.attempts == 1)
    }

    @Test func unknownKeyIsExplained() async throws {
        let fleet = try await Fleet.shared()
        let error = await #expect(throws: AWSError.self) {
            try await STS(fleet.client(accessKeyID: "AKIAUNKNOWNKEY000000")).getCallerIdentity()
        }
        #expect(error?.code == "InvalidClientTokenId")
        #expect(error?.hint?.contains("AWS does not know this access key") == true)
    }

    @Test func unreachableEndpointIsAConnectionFailure() async throws {
        let configuration = AWSConfiguration(
            region: Region("eu-west-3"),
            credentials: StaticCredentialsProvider(Credentials(accessKeyID: "AKIAX", secretAccessKey: "s", source: .flag)),
            environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"], retry: RetryStrategy(maxAttempts: 2, random: { 0 }))
        let error = await #expect(throws: AWSError.self) { try await STS(AWSClient(configuration)).getCallerIdentity() }
        #expect(error?.code == AWSError.connectionFailed)
        #expect(error?.attempts == 2)
        #expect(error?.description.contains("could not connect at http://127.0.0.1:9") == true)
    }
}
