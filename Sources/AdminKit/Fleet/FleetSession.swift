import AWS
import Foundation
import HTTP

/// The clients and buckets a fleet command works with: the region and project from
/// adminctl.toml when there is one (else the AWS settings alone), and the shared stack's
/// artifacts bucket for full output and staged files unless `--bucket` names another.
public enum FleetSession {
    public static func open(directory: String, environment: [String: String], http: HTTPClient,
                            bucket: String? = nil, useStackBucket: Bool = true) async throws -> FleetRun {
        let session = try await AdminSession.open(directory: directory, environment: environment, http: http)
        var chosen = bucket
        if chosen == nil, useStackBucket, session.config.projectName != nil {
            // No stack yet (or no permission to read it): output beyond AWS's cut is flagged, not fetched.
            chosen = (try? await session.sharedOutputs())?["ArtifactsBucketName"]
        }
        let client = session.client
        var run = FleetRun(ssm: SSM(client), ec2: EC2(client), s3: S3(client), outputBucket: chosen, stagingBucket: chosen)
        if let interval = session.pollOverride {
            run.pollInterval = (interval, max(interval, .seconds(1)))
        }
        return run
    }
}
