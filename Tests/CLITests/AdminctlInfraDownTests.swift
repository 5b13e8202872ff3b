import AWS
import Foundation
import Testing
import TestSupport

/// `adminctl infra down`, and how `infra up` fails and rolls back, against a simulated cloud of
/// their own (checked with the AWS client from the test, not through adminctl).
@Suite struct AdminctlInfraDownTests {
    typealias Project = AdminctlInfraTests.Project

    static func created() async throws -> Project {
        let project = try await Project.start()
        let up = try await project.run(["infra", "up", "--yes"])
        #expect(up.status == 0, "\(up.errorOutput)")
        return project
    }

    func stackStatus(_ project: Project) async throws -> String? {
        try await CloudFormation(project.fleet.client()).stack(project.stack)?.status
    }

    @Test func downRefusesWhileAStackImportsItThenKeepsSnapshotsAndBuckets() async throws {
        let project = try await Self.created()
        defer { project.stop() }
        let client = project.fleet.client()
        let cloudFormation = CloudFormation(client)
        // A developer's stack stands on the shared network through one of its exports.
        let developer = """
            Resources:
              Marker:
                Type: AWS::SSM::Parameter
                Properties:
                  Type: String
                  Value: {"Fn::ImportValue": "\(project.stack)-VpcId"}
            """
        try await cloudFormation.createStack(name: "\(project.name)-dev-alice", template: developer)

        let refused = try await project.run(["infra", "down", "--confirm", project.stack])
        #expect(refused.status == 1)
        #expect(refused.errorOutput.contains("Stack \(project.stack) cannot be deleted while other stacks stand on it: \(project.name)-dev-alice."),
                "\(refused.errorOutput)")
        #expect(try await stackStatus(project) == "CREATE_COMPLETE")

        try await cloudFormation.deleteStack("\(project.name)-dev-alice")
        let resources = try await cloudFormation.listStackResources(project.stack).all { $0 }
        let databases = resources.filter { $0.type == "AWS::RDS::DBInstance" }.map(\.physicalID)
        let buckets = resources.filter { $0.type == "AWS::S3::Bucket" }.map(\.physicalID).sorted()
        #expect(databases.count == 2 && buckets.count == 3)
        try await S3(client).putObject(bucket: buckets[0], key: "artifacts/prod/r1.tar.gz", body: .string("release"))

        let down = try await project.run(["infra", "down", "--confirm", project.stack, "--json"])
        #expect(down.status == 0, "\(down.errorOutput)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(down.standardOutput)) as? [String: Any])
        #expect(report["deleted"] as? Bool == true && report["status"] as? String == "DELETE_COMPLETE")
        #expect((report["keptBuckets"] as? [String])?.sorted() == buckets)
        let snapshots = try #require(report["snapshots"] as? [String])
        #expect(snapshots.count == 2)
        #expect(down.errorOutput.contains("Turning off deletion protection of \(databases[0])"))
        #expect(down.errorOutput.contains("DELETE_COMPLETE       Vpc (AWS::EC2::VPC)"), "\(down.errorOutput)")
        #expect(down.errorOutput.contains("DELETE_SKIPPED        ArtifactsBucket (AWS::S3::Bucket)"))

        // What AWS holds now: the stack gone, each database kept as its final snapshot, the buckets and their data kept.
        #expect(try await cloudFormation.stack(project.stack) == nil)
        let rds = RDS(client)
        for database in databases {
            #expect(try await rds.instance(database) == nil)
            #expect(try await rds.snapshots(ofInstance: database, type: "manual").count == 1)
        }
        #expect(try await S3(client).getObject(bucket: buckets[0], key: "artifacts/prod/r1.tar.gz") == Array("release".utf8))
        #expect(try await EC2(client).describeVPCs().filter { !$0.isDefault }.isEmpty)

        // A new up would collide with the kept buckets' names: said before anything is created.
        let again = try await project.run(["infra", "up", "--yes"])
        #expect(again.status == 1)
        #expect(again.errorOutput.contains("already exists in this account, kept by an earlier `adminctl infra down`"), "\(again.errorOutput)")
        #expect(try await cloudFormation.stack(project.stack) == nil)

        let twice = try await project.run(["infra", "down", "--confirm", project.stack])
        #expect(twice.status == 0)
        #expect(twice.output == "Stack \(project.stack) does not exist: nothing was deleted.\n")
    }

    @Test func downWithDeleteDataLeavesNothingAndUpCreatesItAgain() async throws {
        let project = try await Self.created()
        defer { project.stop() }
        let client = project.fleet.client()
        let resources = try await CloudFormation(client).listStackResources(project.stack).all { $0 }
        let buckets = resources.filter { $0.type == "AWS::S3::Bucket" }.map(\.physicalID)
        let databases = resources.filter { $0.type == "AWS::RDS::DBInstance" }.map(\.physicalID)
        for (index, bucket) in buckets.enumerated() {
            try await S3(client).putObject(bucket: bucket, key: "dumps/prod/\(index).sql.gz", body: .string("dump"))
        }

        let down = try await project.run(["infra", "down", "--delete-data", "--confirm", project.stack])
        #expect(down.status == 0, "\(down.errorOutput)")
        #expect(down.errorOutput.contains("With --delete-data, the data goes too, for good:"))
        #expect(down.output.contains("Stack \(project.stack) is deleted"))
        let s3 = S3(client)
        for bucket in buckets { #expect(try await s3.bucketExists(bucket) == false) }
        for database in databases { #expect(try await RDS(client).snapshots(ofInstance: database).isEmpty) }

        let up = try await project.run(["infra", "up", "--yes"])
        #expect(up.status == 0, "\(up.errorOutput)")
        #expect(try await stackStatus(project) == "CREATE_COMPLETE")
    }

    @Test func withoutTheStacksNameNothingIsDeleted() async throws {
        let project = try await Self.created()
        defer { project.stop() }
        let asked = try await project.run(["infra", "down"])
        #expect(asked.status == 2)
        #expect(asked.errorOutput.hasSuffix("Error: adminctl infra down asks you to type the stack's name, and there is no terminal "
            + "to ask on: add --confirm \(project.stack).\n"), "\(asked.errorOutput)")
        // shared.yaml's 60 resources but HttpsListener (no certificate: its Condition is false, so it is not created).
        #expect(asked.errorOutput.contains("59 resources will be deleted."))
        let wrong = try await project.run(["infra", "down", "--confirm", "nuvola-shared"])
        #expect(wrong.status == 2)
        #expect(wrong.errorOutput.hasSuffix("Error: --confirm is 'nuvola-shared', not the stack's name \(project.stack): nothing was deleted.\n"))
        #expect(try await stackStatus(project) == "CREATE_COMPLETE")
        for database in try await CloudFormation(project.fleet.client()).listStackResources(project.stack).all({ $0 })
            .filter({ $0.type == "AWS::RDS::DBInstance" }) {
            #expect(try await RDS(project.fleet.client()).instance(database.physicalID)?.deletionProtection == true)
        }
    }

    @Test func aResourceThatCannotGoIsNamedAndTheNextDownFinishes() async throws {
        let project = try await Self.created()
        defer { project.stop() }
        let client = project.fleet.client()
        let outputs = try #require(try await CloudFormation(client).stack(project.stack)?.outputs)
        let subnet = try #require(outputs["PrivateSubnetIds"]?.split(separator: ",").first.map(String.init))
        // Something made outside the stack, in its subnet: EC2 refuses to delete the subnet.
        var input = EC2.RunInstancesInput(imageID: "ami-12c6146b")
        input.subnetID = subnet
        let stray = try await EC2(client).runInstances(input)

        let failed = try await project.run(["infra", "down", "--confirm", project.stack])
        #expect(failed.status == 1)
        #expect(failed.errorOutput.contains("Deleting \(project.stack) failed: PrivateSubnetA (AWS::EC2::Subnet) DELETE_FAILED: "
            + "The subnet '\(subnet)' has dependencies and cannot be deleted."), "\(failed.errorOutput)")
        #expect(failed.errorOutput.contains("Fix the cause, then run `adminctl infra down` again."))
        #expect(try await stackStatus(project) == "DELETE_FAILED")

        try await EC2(client).terminateInstances(stray.map(\.id))
        let finished = try await project.run(["infra", "down", "--confirm", project.stack])
        #expect(finished.status == 0, "\(finished.errorOutput)")
        #expect(try await stackStatus(project) == nil)
    }

    @Test func aResourceThatFailsDuringTheFirstUpRollsBackWithItsReason() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        try await project.fleet.inject(kind: "resource-failure", service: "cloudformation", operation: "ProdDatabase", count: 1,
                                       message: "DB instance quota exceeded (Service: Rds, Status Code: 400)")
        let up = try await project.run(["infra", "up", "--yes"])
        #expect(up.status == 1)
        #expect(up.errorOutput.contains("The change to \(project.stack) failed: ProdDatabase (AWS::RDS::DBInstance) CREATE_FAILED: "
            + "DB instance quota exceeded (Service: Rds, Status Code: 400). The stack is now ROLLBACK_COMPLETE: its first creation "
            + "was rolled back"), "\(up.errorOutput)")
        #expect(up.errorOutput.contains("ROLLBACK_IN_PROGRESS"))
        let client = project.fleet.client()
        #expect(try await stackStatus(project) == "ROLLBACK_COMPLETE")
        // The rollback took everything with it, the buckets too (RetainExceptOnCreate), so nothing blocks the next try.
        #expect(try await EC2(client).describeVPCs().filter { !$0.isDefault }.isEmpty)
        let parameters = try #require(try await CloudFormation(client).stack(project.stack)?.parameters)
        #expect(try await S3(client).bucketExists(try #require(parameters["ArtifactsBucketName"])) == false)

        let status = try await project.run(["infra", "status"])
        #expect(status.output.contains("ROLLBACK_COMPLETE: its first creation failed and was rolled back"))
        // The fix adminctl names: delete the stack (infra down does), then up again.
        let down = try await project.run(["infra", "down", "--confirm", project.stack])
        #expect(down.status == 0, "\(down.errorOutput)")
        let retry = try await project.run(["infra", "up", "--yes"])
        #expect(retry.status == 0, "\(retry.errorOutput)")
    }
}

/// `adminctl infra status`: whether the stack still matches adminctl.toml, and with --drift which
/// resources were changed by hand.
@Suite struct AdminctlInfraStatusTests {
    @Test func statusSaysWhenTheConfigChangedAndDriftNamesTheHandEdits() async throws {
        let project = try await AdminctlInfraDownTests.created()
        defer { project.stop() }
        let clean = try await project.json(["infra", "status", "--drift"])
        #expect(clean["matchesConfig"] as? Bool == true)
        #expect((clean["drift"] as? [String: Any])?["status"] as? String == "IN_SYNC")

        // By hand, outside CloudFormation: prod may grow to 9, and SSH is open to the world.
        let client = project.fleet.client()
        let resources = try await CloudFormation(client).listStackResources(project.stack).all { $0 }
        let group = try #require(resources.first { $0.logicalID == "ProdAutoScalingGroup" }?.physicalID)
        let securityGroup = try #require(resources.first { $0.logicalID == "ProdInstanceSecurityGroup" }?.physicalID)
        try await AutoScaling(client).updateGroup(name: group, maxSize: 9)
        try await EC2(client).authorizeIngress(groupID: securityGroup, [EC2.Permission(fromPort: 22, toPort: 22,
                                                                                     cidrs: ["0.0.0.0/0"])])
        let text = try await project.run(["infra", "status", "--drift"])
        #expect(text.status == 1)
        #expect(text.output.contains("Drift: 2 resource(s) changed outside CloudFormation:"), "\(text.output)")
        #expect(text.output.contains("  ProdAutoScalingGroup (AWS::AutoScaling::AutoScalingGroup) MODIFIED\n    /MaxSize: expected 6, actual 9"))
        #expect(text.output.contains("  ProdInstanceSecurityGroup (AWS::EC2::SecurityGroup) MODIFIED\n    /SecurityGroupIngress: expected null, "
            + "actual {\"CidrIp\": \"0.0.0.0/0\", \"FromPort\": 22, \"IpProtocol\": \"tcp\", \"ToPort\": 22}"))

        // A changed adminctl.toml is pending until the next up.
        let file = try String(contentsOfFile: project.file, encoding: .utf8)
        try file.replacingOccurrences(of: "instance_type = \"t3.small\"", with: "instance_type = \"t3.large\"")
            .write(toFile: project.file, atomically: true, encoding: .utf8)
        let pending = try await project.run(["infra", "status"])
        #expect(pending.status == 0)
        #expect(pending.output.contains("adminctl.toml or the template changed since the last `adminctl infra up`: `adminctl infra diff` shows how."))
    }
}

extension AdminctlInfraStatusTests {
    @Test func anAdminWithoutTheRightsIsToldWhichActionWasDenied() async throws {
        let project = try await AdminctlInfraTests.Project.start()
        defer { project.stop() }
        let iam = IAM(project.fleet.client())
        let user = "limited-\(project.name)"
        _ = try await iam.createUser(user)
        try await iam.putUserPolicy(user: user, name: "read-only", document: """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["cloudformation:Describe*", "s3:ListBucket", "ec2:DescribeAvailabilityZones"], "Resource": "*"}]}
            """)
        let key = try await iam.createAccessKey(user: user)
        let result = try await project.run(["infra", "diff"], environment: ["AWS_ACCESS_KEY_ID": key.accessKeyID,
                                                                          "AWS_SECRET_ACCESS_KEY": key.secretAccessKey])
        #expect(result.status == 1)
        #expect(result.errorOutput.contains("cloudformation:CreateChangeSet"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("AccessDenied"))
        #expect(!result.errorOutput.contains(key.secretAccessKey))
        #expect(try await CloudFormation(project.fleet.client()).stack(project.stack) == nil)
    }
}

extension AdminctlInfraStatusTests {
    /// The dev environment's port on the load balancer admits exactly the admin ranges listed.
    @Test func everyAdminRangeReachesTheDevListenerAndOnlyThose() async throws {
        let project = try await AdminctlInfraTests.Project.start()
        defer { project.stop() }
        let file = try String(contentsOfFile: project.file, encoding: .utf8)
        func setRanges(_ ranges: [String]) throws {
            try file.replacingOccurrences(of: "# admin_cidrs = [\"198.51.100.7/32\"]",
                                          with: "admin_cidrs = [\(ranges.map { "\"\($0)\"" }.joined(separator: ", "))]")
                .write(toFile: project.file, atomically: true, encoding: .utf8)
        }
        func devListenerSources() async throws -> [String] {
            let client = project.fleet.client()
            let resources = try await CloudFormation(client).listStackResources(project.stack).all { $0 }
            let group = try #require(resources.first { $0.logicalID == "LoadBalancerSecurityGroup" }?.physicalID)
            let found = try await EC2(client).describeSecurityGroups(ids: [group]).all { $0 }
            return found.flatMap(\.ingress).filter { $0.fromPort == 8080 }.flatMap(\.cidrs).sorted()
        }
        try setRanges(["198.51.100.0/24", "203.0.113.7/32"])
        let up = try await project.run(["infra", "up", "--yes"])
        #expect(up.status == 0, "\(up.errorOutput)")
        #expect(try await devListenerSources() == ["198.51.100.0/24", "203.0.113.7/32"])

        try setRanges(["198.51.100.0/24"])
        let plan = try await project.json(["infra", "diff"])
        let changes = try #require(plan["changes"] as? [[String: Any]])
        #expect(changes.contains { $0["logicalId"] as? String == "LoadBalancerSecurityGroup" && $0["action"] as? String == "Modify" })
        #expect(try await project.run(["infra", "up", "--yes"]).status == 0)
        #expect(try await devListenerSources() == ["198.51.100.0/24"])
    }
}

/// Ctrl-C during `adminctl infra up`: while planning, the change set and the empty stack it made
/// go; while following, CloudFormation carries on and adminctl says so. The request under way is
/// held back by the simulator for a minute: adminctl ends long before it would have answered
/// (the bound leaves room for the cleanup's own calls to a simulator slowed by a loaded machine).
@Suite struct AdminctlInfraInterruptTests {
    typealias Project = AdminctlInfraTests.Project

    func launch(_ project: Project, _ arguments: [String] = ["infra", "up", "--yes"]) throws -> (Process, Pipe) {
        try CLI.launch("adminctl", arguments, environment: project.environment, directory: project.directory.file("project"))
    }

    /// Waits (up to 20 s) until the stack's status satisfies `ready`.
    func waitForStack(_ project: Project, _ ready: (String?) -> Bool) async throws {
        let cloudFormation = CloudFormation(project.fleet.client())
        for _ in 0..<200 {
            if ready(try await cloudFormation.stack(project.stack)?.status) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the stack never got there")
    }

    func interrupt(_ process: Process, _ stderr: Pipe) async -> (status: Int32, output: String, seconds: Double) {
        let sent = ContinuousClock.now
        kill(process.processIdentifier, SIGINT)
        let (status, output) = await CLI.finish(process, stderr)
        let elapsed = (ContinuousClock.now - sent).components
        return (status, output, Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
    }

    @Test func ctrlCWhilePlanningLeavesNoChangeSetNorEmptyStack() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        try await project.fleet.inject(kind: "latency", service: "cloudformation", operation: "DescribeChangeSet", count: 100, seconds: 60)
        let (process, stderr) = try launch(project)
        try await waitForStack(project) { $0 == "REVIEW_IN_PROGRESS" }
        let (status, output, seconds) = await interrupt(process, stderr)
        #expect(status == 130, "\(output)")
        #expect(seconds < 20, "\(seconds) s")
        try await project.fleet.clearFaults()
        #expect(try await CloudFormation(project.fleet.client()).stack(project.stack) == nil)
    }

    @Test func ctrlCWhileFollowingSaysCloudFormationCarriesOn() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        try await project.fleet.inject(kind: "latency", service: "cloudformation", operation: "DescribeStackEvents", count: 100, seconds: 60)
        let (process, stderr) = try launch(project)
        try await waitForStack(project) { $0 == "CREATE_COMPLETE" }
        let (status, output, seconds) = await interrupt(process, stderr)
        #expect(status == 130, "\(output)")
        #expect(seconds < 20, "\(seconds) s")
        #expect(output.contains("Stopped following \(project.stack); CloudFormation carries on with the change. "
            + "`adminctl infra status` shows where it is."), "\(output)")
        try await project.fleet.clearFaults()
        #expect(try await project.run(["infra", "up", "--yes"]).output.hasPrefix("No change"))
    }

    @Test func ctrlCBeforeTheDeletionStartsProtectsTheDatabasesAgain() async throws {
        let project = try await AdminctlInfraDownTests.created()
        defer { project.stop() }
        let client = project.fleet.client()
        let databases = try await CloudFormation(client).listStackResources(project.stack).all { $0 }
            .filter { $0.type == "AWS::RDS::DBInstance" }.map(\.physicalID)
        // The event read between the lifts and DeleteStack is held for a minute: the interrupt
        // lands there however slowly a loaded machine gets to it.
        try await project.fleet.inject(kind: "latency", service: "cloudformation", operation: "DescribeStackEvents", count: 1, seconds: 60)
        let (process, stderr) = try launch(project, ["infra", "down", "--confirm", project.stack])
        let deadline = ContinuousClock.now + .seconds(50)
        var lifted = 0
        while lifted < databases.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            lifted = 0
            for database in databases where try await RDS(client).instance(database)?.deletionProtection == false { lifted += 1 }
        }
        #expect(lifted == databases.count, "adminctl never lifted the protection of \(databases)")
        let (status, output, _) = await interrupt(process, stderr)
        #expect(status == 130, "\(output)")
        #expect(try await CloudFormation(client).stack(project.stack)?.status == "CREATE_COMPLETE")
        for database in databases { #expect(try await RDS(client).instance(database)?.deletionProtection == true, "\(database)") }
    }
}
