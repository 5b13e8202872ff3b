import AWS
import Foundation
import HTTP
import Nuvola

/// What every access command needs: the project from adminctl.toml, the AWS clients in its
/// region, and the shared stack's outputs once they are asked for.
public struct DeveloperAccess: Sendable {
    public var project: String
    public var region: String
    public var repositoryURL: String?
    public var integrationBranch: String
    public var environment: [String: String]
    public var configuration: AWSConfiguration
    public var pollInterval: Duration = .seconds(2)

    public var cloudFormation: CloudFormation { CloudFormation(AWSClient(configuration)) }
    public var iam: IAM { IAM(AWSClient(configuration)) }
    public var ec2: EC2 { EC2(AWSClient(configuration)) }
    public var ssm: SSM { SSM(AWSClient(configuration)) }
    public var s3: S3 { S3(AWSClient(configuration)) }
    public var sharedStackName: String { SharedStack(project: project).name }

    public static func open(directory: String, environment: [String: String], http: HTTPClient) async throws -> DeveloperAccess {
        let config = try AdminConfig.load(directory: directory, environment: environment)
        guard let project = config.projectName, !project.isEmpty else {
            throw AccessError(.notReady, "adminctl.toml names no project (project.name): run `adminctl init` first.")
        }
        let configuration = try await AWSConfiguration.resolve(regionFlag: config.region, environment: environment, http: http)
        var access = DeveloperAccess(project: project, region: configuration.region.name, repositoryURL: config.repositoryURL,
                                     integrationBranch: config.value("repository.integration_branch") ?? "new_features",
                                     environment: environment, configuration: configuration)
        if let interval = AdminSession.pollOverride(environment) {
            access.pollInterval = interval
        }
        return access
    }

    /// The shared stack's outputs; it must be up (developer stacks import them).
    public func sharedOutputs() async throws -> [String: String] {
        guard let shared = try await cloudFormation.stack(sharedStackName), shared.isHealthy else {
            throw AccessError(.notReady, "The shared stack \(sharedStackName) is not up, and developer machines live in its "
                + "network: run `adminctl infra up` first.")
        }
        return shared.outputs
    }

    /// Every developer stack of the project (by name and Role tag), live ones only.
    public func developerStacks() async throws -> [CloudFormation.Stack] {
        var found: [CloudFormation.Stack] = []
        for try await page in cloudFormation.describeStacks() {
            found += page.filter { stack in
                DeveloperStackNaming.developer(ofStack: stack.name, project: project) != nil
                    && stack.tags[NuvolaTag.role] == DeveloperStackNaming.stackRole
                    && stack.status != "DELETE_COMPLETE"
            }
        }
        return found.sorted { $0.name < $1.name }
    }
}
