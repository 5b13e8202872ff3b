import AWS
import Foundation
import HTTP
import Synchronization
import Testing

/// Stands in for the network: records every signed request and answers each attempt from a
/// script (a failure to throw or a response), the last answer repeating.
final class ScriptedTransport: Sendable {
    enum Answer: Sendable {
        case fail(HTTPError.Kind)
        case respond(status: Int, body: String)
    }

    private let script: [Answer]
    private let seen = Mutex<[HTTPRequest]>([])

    init(_ script: [Answer]) { self.script = script }

    var requests: [HTTPRequest] { seen.withLock { $0 } }

    /// The value of form or JSON parameter `name` in each request body, in order.
    func values(of name: String) -> [String?] {
        requests.map { request in
            guard case .bytes(let bytes) = request.body else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            for pair in text.split(separator: "&") where pair.hasPrefix("\(name)=") {
                return String(pair.dropFirst(name.count + 1))
            }
            return nil
        }
    }

    func client() -> AWSClient {
        let credentials = Credentials(accessKeyID: "AKIAIDEMPOTENCYTEST1", secretAccessKey: "secret", source: .environment("test"))
        var configuration = AWSConfiguration(region: Region("eu-west-3"), credentials: StaticCredentialsProvider(credentials),
                                             environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"],
                                             retry: RetryStrategy(maxAttempts: 3, random: { 0 }))
        configuration.sleep = { _ in }
        configuration.transport = { [self] request, _, _ in
            let attempt = seen.withLock { seen in
                seen.append(request)
                return seen.count
            }
            switch script[min(attempt, script.count) - 1] {
            case .fail(let kind):
                throw HTTPError(kind: kind, method: request.method, url: request.url, detail: "scripted")
            case .respond(let status, let body):
                return HTTPResponse(status: status, headers: [:], body: Array(body.utf8), url: request.url, metrics: HTTPMetrics())
            }
        }
        return AWSClient(configuration)
    }
}

/// Every operation we offer that AWS gives an idempotency token, with the token's name.
enum TokenCall: String, CaseIterable, Sendable {
    case runInstances, createLaunchTemplate, createLaunchTemplateVersion
    case createStack, updateStack, deleteStack, createChangeSet, executeChangeSet

    var tokenName: String {
        switch self {
        case .runInstances, .createLaunchTemplate, .createLaunchTemplateVersion, .createChangeSet: "ClientToken"
        case .createStack, .updateStack, .deleteStack, .executeChangeSet: "ClientRequestToken"
        }
    }

    func call(_ client: AWSClient) async throws {
        let ec2 = EC2(client), stacks = CloudFormation(client)
        let template = "{\"Resources\": {}}"
        switch self {
        case .runInstances: _ = try await ec2.runInstances(EC2.RunInstancesInput(imageID: "ami-12c6146b"))
        case .createLaunchTemplate: _ = try await ec2.createLaunchTemplate(name: "app", data: EC2.LaunchTemplateData(imageID: "ami-12c6146b"))
        case .createLaunchTemplateVersion:
            _ = try await ec2.createLaunchTemplateVersion(templateID: "lt-1", data: EC2.LaunchTemplateData(imageID: "ami-12c6146b"))
        case .createStack: try await stacks.createStack(name: "shared", template: template)
        case .updateStack: try await stacks.updateStack(name: "shared", template: template)
        case .deleteStack: try await stacks.deleteStack("shared")
        case .createChangeSet: _ = try await stacks.createChangeSet(stack: "shared", name: "next", template: template)
        case .executeChangeSet: try await stacks.executeChangeSet(stack: "shared", name: "next")
        }
    }
}

@Suite("Idempotency tokens and resending calls whose answer was lost")
struct IdempotencyTests {
    /// The answer was lost after AWS acted (the simulator's "drop after processing"): resent with
    /// the same token, so AWS recognises the retry; the next call has a token of its own.
    @Test(arguments: TokenCall.allCases)
    func aRetryCarriesTheSameTokenAndTheNextCallANewOne(call: TokenCall) async throws {
        let transport = ScriptedTransport([.fail(.connectionLost), .fail(.status(503)), .respond(status: 200, body: "<Response/>")])
        let client = transport.client()
        try await call.call(client)
        let tokens = transport.values(of: call.tokenName)
        #expect(tokens.count == 3)
        let token = try #require(tokens.first ?? nil)
        #expect(!token.isEmpty)
        #expect(tokens.allSatisfy { $0 == token })

        try await call.call(client)
        let next = transport.values(of: call.tokenName).last ?? nil
        #expect(next != nil && next != token)
    }

    @Test func sendCommandIsNotResentOnceItMayHaveRun() async throws {
        for failure in [ScriptedTransport.Answer.fail(.connectionLost), .fail(.timeout),
                        .respond(status: 500, body: "{\"__type\": \"InternalServerError\", \"message\": \"oops\"}")] {
            let transport = ScriptedTransport([failure, .respond(status: 200, body: "{\"Command\": {\"CommandId\": \"c-1\"}}")])
            let error = await #expect(throws: AWSError.self) {
                try await SSM(transport.client()).sendCommand(.shell(["uptime"], instanceIDs: ["i-1"]))
            }
            #expect(transport.requests.count == 1)
            #expect(error?.mayHaveTakenEffect == true)
            #expect(error?.description.contains("may have carried out SendCommand") == true)
        }
    }

    @Test func sendCommandIsResentWhenAWSCannotHaveRunIt() async throws {
        let throttled = "{\"__type\": \"ThrottlingException\", \"message\": \"Rate exceeded\"}"
        let transport = ScriptedTransport([.fail(.cannotConnect), .respond(status: 400, body: throttled),
                                           .respond(status: 200, body: "{\"Command\": {\"CommandId\": \"c-1\"}}")])
        let command = try await SSM(transport.client()).sendCommand(.shell(["uptime"], instanceIDs: ["i-1"]))
        #expect(command.CommandId == "c-1")
        #expect(transport.requests.count == 3)
    }

    @Test func idempotentCallsAreStillResentAfterALostAnswer() async throws {
        let transport = ScriptedTransport([.fail(.connectionLost), .respond(status: 200, body: "{\"Parameter\": {\"Name\": \"/p\", \"Value\": \"v\", \"Version\": 1}}")])
        _ = try? await SSM(transport.client()).getParameter("/p")
        #expect(transport.requests.count == 2)
    }
}
