import AWS
import Foundation
import Testing
import TestSupport

/// `adminctl status` and `adminctl scale` on the shared stack's groups, checked against AWS.
@Suite struct AdminctlEnvironmentTests {
    @Test func statusShowsTheGroupAndScaleChangesItWithinTheRules() async throws {
        let project = try await AdminctlInfraDownTests.created()
        defer { project.stop() }
        let status = try await project.run(["status", "prod", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(status.standardOutput)) as? [String: Any])
        #expect(report["environment"] as? String == "prod" && report["minSize"] as? Int == 2 && report["maxSize"] as? Int == 6)
        #expect((report["url"] as? String)?.hasPrefix("http://") == true)
        #expect((report["instances"] as? [[String: Any]])?.count == 2)
        #expect((report["scaling"] as? [String])?.first?.hasPrefix("TargetTrackingScaling ") == true)
        #expect(report["release"] as? String == "none")
        // Nothing serves yet (no release is deployed): said, and the exit status says it too.
        #expect(status.status == (report["serving"] as? Bool == true ? 0 : 1))

        let refused = try await project.run(["scale", "prod", "--min", "1"])
        #expect(refused.status == 1)
        #expect(refused.errorOutput.contains("production keeps at least 2 instances (one per zone)"), "\(refused.errorOutput)")
        let outside = try await project.run(["scale", "dev", "--desired", "9"])
        #expect(outside.status == 1 && outside.errorOutput.contains("desired 9 is outside min"), "\(outside.errorOutput)")
        let nothing = try await project.run(["scale", "prod"])
        #expect(nothing.status == 2)

        let scaled = try await project.run(["scale", "prod", "--max", "8", "--desired", "3"])
        #expect(scaled.status == 0, "\(scaled.errorOutput)")
        #expect(scaled.output.contains("min 2 → 2, desired 2 → 3, max 6 → 8."))
        #expect(scaled.output.contains("adminctl.toml says min 2, max 6"))
        let outputs = try #require(try await CloudFormation(project.fleet.client()).stack(project.stack)?.outputs)
        let name = try #require(outputs["ProdAutoScalingGroupName"])
        let group = try #require(try await AutoScaling(project.fleet.client()).group(name))
        #expect(group.maxSize == 8 && group.desiredCapacity == 3 && group.minSize == 2)
        // A hand change of max is drift until adminctl.toml says it.
        let drift = try await project.run(["infra", "status", "--drift"])
        #expect(drift.status == 1 && drift.output.contains("/MaxSize: expected 6, actual 8"), "\(drift.output)")
    }
}
