import AWS
import Foundation
import HTTP

/// The clients and buckets a fleet command works with: the region and project from
/// adminctl.toml when there is one (else the AWS settings alone), and the shared stack's
/// artifacts bucket for full output and staged files unless `--bucket` names another.
public enum FleetSession {
    public static func open(directory: String, environment: [String: String], http: HTTPClient,
                            bucket: String? = nil, useStackBucket: Bool = true) async throws -> FleetRun {
        var region: String?
        var stackName: String?
        if AdminConfig.locate(from: directory, home: environment["HOME"] ?? NSHomeDirectory()) != nil {
            let config = try AdminConfig.load(directory: directory, environment: environment)
            region = config.region
            stackName = config.projectName.map { SharedStack(project: $0).name }
        }
        let configuration = try await AWSConfiguration.resolve(regionFlag: region, environment: environment, http: http)
        let client = AWSClient(configuration)
        var chosen = bucket
        if chosen == nil, useStackBucket, let stackName {
            // No stack yet (or no permission to read it): output beyond AWS's cut is flagged, not fetched.
            chosen = (try? await CloudFormation(client).stack(stackName))??.outputs["ArtifactsBucketName"]
        }
        var run = FleetRun(ssm: SSM(client), ec2: EC2(client), s3: S3(client), outputBucket: chosen, stagingBucket: chosen)
        if let interval = environment["ADMINCTL_POLL_SECONDS"].flatMap(Double.init), interval > 0 {
            run.pollInterval = (.milliseconds(Int(interval * 1000)), max(.milliseconds(Int(interval * 1000)), .seconds(1)))
        }
        return run
    }
}
