@testable import AdminKit
@testable import AWS
import Foundation
import Terminal
import Testing

/// How a plan and a failure read: what an admin decides on before and after `infra up`.
@Suite struct StackDeploymentTests {
    typealias Change = CloudFormation.ChangeSet.Change

    @Test func replacementsAndRemovalsAreFlaggedLoudly() {
        let plan = StackPlan(stack: "shop-shared", changeSet: "cs", type: "UPDATE", changes: [
            Change(action: "Add", logicalID: "DevListener", resourceType: "AWS::ElasticLoadBalancingV2::Listener", replacement: nil),
            Change(action: "Modify", logicalID: "ProdLaunchTemplate", resourceType: "AWS::EC2::LaunchTemplate", replacement: "False"),
            Change(action: "Modify", logicalID: "ProdDatabase", resourceType: "AWS::RDS::DBInstance", replacement: "True"),
            Change(action: "Remove", logicalID: "OldBucket", resourceType: "AWS::S3::Bucket", replacement: nil),
        ])
        #expect(plan.summary == "1 to add, 2 to modify (1 replaced), 1 to remove")
        #expect(plan.render(ColorPolicy(enabled: false)) == """
            Stack shop-shared (update): 1 to add, 2 to modify (1 replaced), 1 to remove.
               action   resource            type
            +  add      DevListener         AWS::ElasticLoadBalancingV2::Listener
            ~  modify   ProdLaunchTemplate  AWS::EC2::LaunchTemplate
            !  REPLACE  ProdDatabase        AWS::RDS::DBInstance
            -  REMOVE   OldBucket           AWS::S3::Bucket
            Warning: 2 resource(s) will be replaced or removed (ProdDatabase, OldBucket): what they hold is lost unless it is kept elsewhere.
            """)
    }

    @Test func aFailureNamesTheFirstResourceThatFailedNotTheOnesCancelledAfterIt() {
        let stack = CloudFormation.Stack(id: "id", name: "shop-shared", status: "ROLLBACK_COMPLETE", statusReason: nil,
                                         outputs: [:], parameters: [:], tags: [:])
        let events = [
            CloudFormation.Event(id: "1", logicalID: "ProdDatabase", resourceType: "AWS::RDS::DBInstance", status: "CREATE_FAILED",
                                 reason: "DB instance class db.x9.huge is not available", timestamp: nil),
            CloudFormation.Event(id: "2", logicalID: "ArtifactsBucket", resourceType: "AWS::S3::Bucket", status: "CREATE_FAILED",
                                 reason: "Resource creation cancelled", timestamp: nil),
        ]
        let error = StackDeployment.failure(of: stack, failures: events.reversed())
        #expect(error.kind == .deployFailed)
        #expect(error.message.hasPrefix("The change to shop-shared failed: ProdDatabase (AWS::RDS::DBInstance) CREATE_FAILED: "
            + "DB instance class db.x9.huge is not available. The stack is now ROLLBACK_COMPLETE: its first creation was rolled back"))
        #expect(error.message.contains("adminctl infra down --confirm shop-shared"))
    }

    @Test func stuckStacksAreExplainedWithTheirFix() {
        let rolledBack = StackDeployment.problem(name: "shop-shared", status: "ROLLBACK_COMPLETE", reason: nil)
        #expect(rolledBack?.kind == .stackState)
        #expect(rolledBack?.message.hasSuffix("delete it, then run `adminctl infra up` again: "
            + "adminctl infra down --confirm shop-shared") == true)
        let failedRollback = StackDeployment.problem(name: "shop-shared", status: "UPDATE_ROLLBACK_FAILED", reason: "bucket not empty")
        #expect(failedRollback?.message.contains("(bucket not empty)") == true)
        #expect(failedRollback?.message.hasSuffix("aws cloudformation continue-update-rollback --stack-name shop-shared") == true)
        #expect(StackDeployment.problem(name: "shop-shared", status: "UPDATE_IN_PROGRESS", reason: nil)?.kind == .busy)
        for fine in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"] {
            #expect(StackDeployment.problem(name: "shop-shared", status: fine, reason: nil) == nil)
        }
    }

    @Test func theTemplateIsFoundFromTheVariableOrUpwardsFromTheExecutable() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("infra-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/adminctl/templates", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/.build/debug", withIntermediateDirectories: true)
        try "Resources: {}\n".write(toFile: "\(root)/adminctl/templates/shared.yaml", atomically: true, encoding: .utf8)
        #expect(try SharedStack.templatePath(environment: [:], executable: "\(root)/.build/debug/adminctl")
            == "\(root)/adminctl/templates/shared.yaml")
        #expect(try SharedStack.templatePath(environment: ["ADMINCTL_TEMPLATES": "\(root)/adminctl/templates"], executable: nil)
            == "\(root)/adminctl/templates/shared.yaml")
        let missing = #expect(throws: InfraError.self) {
            try SharedStack.templatePath(environment: [:], executable: "/nonexistent/bin/adminctl")
        }
        #expect(missing?.message.contains("ADMINCTL_TEMPLATES is not set, and no folder from /nonexistent/bin upwards holds it") == true)
        let wrong = #expect(throws: InfraError.self) {
            try SharedStack.templatePath(environment: ["ADMINCTL_TEMPLATES": root], executable: nil)
        }
        #expect(wrong?.message.hasPrefix("ADMINCTL_TEMPLATES is \(root), but there is no shared.yaml in it.") == true)
    }
}

@Suite struct RegionZoneTests {
    typealias Zone = EC2.AvailabilityZone

    @Test func aRegionNeedsTwoAvailableZonesNotLocalOnes() {
        let two = [Zone(name: "eu-west-3a", state: "available", zoneType: "availability-zone"),
                   Zone(name: "eu-west-3b", state: "available", zoneType: "availability-zone")]
        #expect(SharedInfrastructure.zoneProblem(two, region: "eu-west-3") == nil)
        let one = [Zone(name: "xx-1a", state: "available", zoneType: "availability-zone"),
                   Zone(name: "xx-1b", state: "impaired", zoneType: "availability-zone"),
                   Zone(name: "xx-1-lax-1a", state: "available", zoneType: "local-zone")]
        let problem = SharedInfrastructure.zoneProblem(one, region: "xx-1")
        #expect(problem?.message == "Region xx-1 has 1 available availability zone(s) (xx-1a); the shared infrastructure needs "
            + "two, so that production survives the loss of one. Choose another region (aws.region in adminctl.toml, or "
            + "ADMINCTL_AWS_REGION). Nothing was changed.")
        #expect(SharedInfrastructure.zoneProblem([], region: "xx-1")?.message.contains("0 available availability zone(s) (none)") == true)
    }
}

@Suite struct ScaleRuleTests {
    typealias Sizes = ScaleReport.Sizes

    @Test func sizesMustNestAndProductionKeepsTwo() {
        #expect(AppEnvironments.sizeProblem(.prod, Sizes(min: 2, max: 6, desired: 2)) == nil)
        #expect(AppEnvironments.sizeProblem(.dev, Sizes(min: 0, max: 2, desired: 0)) == nil)
        #expect(AppEnvironments.sizeProblem(.prod, Sizes(min: 1, max: 6, desired: 2))?.hasPrefix("production keeps at least 2") == true)
        #expect(AppEnvironments.sizeProblem(.dev, Sizes(min: 3, max: 2, desired: 2)) == "min 3 is above max 2")
        #expect(AppEnvironments.sizeProblem(.dev, Sizes(min: 1, max: 2, desired: 5)) == "desired 5 is outside min 1 and max 2")
        // `scale dev --min N --max N` with N = Int.max had the simulated group launch without end.
        #expect(AppEnvironments.sizeProblem(.dev, Sizes(min: .max, max: .max, desired: .max))
            == "max \(Int.max) is above 100, the most prod.max_size and dev.max_size in adminctl.toml allow")
        #expect(AppEnvironments.sizeProblem(.prod, Sizes(min: 2, max: 100, desired: 100)) == nil)
        #expect(AppEnvironments.sizeProblem(.dev, Sizes(min: -1, max: 2, desired: 0)) == "sizes must be positive (min ≥ 0, max ≥ 1)")
    }
}
