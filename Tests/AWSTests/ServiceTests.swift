import AWS
import Foundation
import Testing
import TestSupport

@Suite("SSM, EC2, IAM, AutoScaling, ELBv2, CloudFormation against the simulated cloud with authentication on")
struct ServiceTests {
    @Test func parameterStoreWithSecureStrings() async throws {
        let ssm = SSM(try await Fleet.shared().client())
        let name = "/nuvola/\(unique("test"))/release"
        #expect(try await ssm.putParameter(name: name, value: "r-1") == 1)
        #expect(try await ssm.putParameter(name: name, value: "r-2") == 2)
        try await ssm.putParameter(name: name + "-secret", value: "db-password", type: "SecureString")
        #expect(try await ssm.getParameter(name)?.Value == "r-2")
        let secret = try #require(try await ssm.getParameter(name + "-secret"))
        #expect(secret.Type == "SecureString")
        #expect(secret.Value == "db-password")
        let prefix = String(name.split(separator: "/").prefix(2).joined(separator: "/"))
        for index in 0..<3 { try await ssm.putParameter(name: "/\(prefix)/extra/\(index)", value: "v\(index)") }
        var pages = 0
        var all: [SSM.Parameter] = []
        for try await page in ssm.getParametersByPath("/" + prefix, pageSize: 2) {
            pages += 1
            all += page
        }
        #expect(pages == 3)
        #expect(Set(all.map(\.Name)) == Set([name, name + "-secret"] + (0..<3).map { "/\(prefix)/extra/\($0)" }))
        try await ssm.deleteParameter(name)
        #expect(try await ssm.getParameter(name) == nil)
    }

    @Test func documentsAndCommands() async throws {
        let fleet = try await Fleet.shared()
        let ssm = SSM(fleet.client())
        let name = unique("NuvolaDeploy")
        let content = """
            {"schemaVersion":"2.2","description":"deploy","mainSteps":[{"action":"aws:runShellScript","name":"run",\
            "inputs":{"runCommand":["echo deploy"]}}]}
            """
        let created = try await ssm.createDocument(name: name, content: content)
        #expect(created.Name == name)
        #expect(try await ssm.describeDocument(name)?.DocumentType == "Command")
        try await ssm.deleteDocument(name)
        #expect(try await ssm.describeDocument(name) == nil)

        let ec2 = EC2(fleet.client())
        let instance = try #require(try await ec2.runInstances(EC2.RunInstancesInput(imageID: "ami-12c6146b")).first)
        let command = try await ssm.sendCommand(.shell(["echo hello"], instanceIDs: [instance.id]))
        #expect(!command.CommandId.isEmpty)
        let listed = try await ssm.listCommands(commandID: command.CommandId).all { $0 }
        #expect(listed.map(\.CommandId) == [command.CommandId])
        // Like AWS, the simulator does not know the invocation for a moment after SendCommand.
        var result: SSM.InvocationResult?
        for _ in 0..<50 where result?.Status != "Success" {
            do {
                result = try await ssm.getCommandInvocation(commandID: command.CommandId, instanceID: instance.id)
            } catch let error as AWSError where error.code == "InvocationDoesNotExist" {}
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(result?.InstanceId == instance.id)
        #expect(result?.StandardOutputContent == "hello\n")
        try await ec2.terminateInstances([instance.id])
    }

    @Test func instancesTagsAndPagination() async throws {
        let ec2 = EC2(try await Fleet.shared().client())
        let owner = unique("dev")
        var input = EC2.RunInstancesInput(imageID: "ami-12c6146b")
        input.count = 5
        input.tags = ["Owner": owner, "Role": "devbox"]
        input.userData = "#!/bin/bash\necho hi\n"
        let started = try await ec2.runInstances(input)
        #expect(started.count == 5)
        #expect(started.allSatisfy { $0.tags["Owner"] == owner })

        // (moto answers DescribeInstances in one page whatever MaxResults says; paging is covered
        // by S3 and IAM below.)
        let found = try await ec2.describeInstances(filters: [.tag("Owner", [owner])], pageSize: 5).all { $0 }
        #expect(Set(found.map(\.id)) == Set(started.map(\.id)))
        #expect(found.allSatisfy { $0.state == "running" || $0.state == "pending" })

        try await ec2.createTags(resources: [started[0].id], tags: ["Stage": "canary"])
        let tags = try await ec2.describeTags(filters: [EC2.Filter("resource-id", [started[0].id])]).all { $0 }
        #expect(tags.contains { $0.key == "Stage" && $0.value == "canary" })
        try await ec2.deleteTags(resources: [started[0].id], keys: ["Stage"])
        let after = try await ec2.describeTags(filters: [EC2.Filter("resource-id", [started[0].id])]).all { $0 }
        #expect(!after.contains { $0.key == "Stage" })

        try await ec2.stopInstances([started[1].id])
        try await ec2.startInstances([started[1].id])
        try await ec2.terminateInstances(started.map(\.id))
        let gone = try await ec2.describeInstances(ids: started.map(\.id)).all { $0 }
        #expect(gone.allSatisfy { $0.state == "terminated" || $0.state == "shutting-down" })
    }

    @Test func securityGroupsLaunchTemplatesAndNetwork() async throws {
        let ec2 = EC2(try await Fleet.shared().client())
        let vpc = try #require(try await ec2.describeVPCs().first { $0.isDefault })
        let subnets = try await ec2.describeSubnets(filters: [EC2.Filter("vpc-id", [vpc.id])])
        #expect(Set(subnets.map(\.availabilityZone)).count >= 2)
        #expect(!(try await ec2.describeImages()).isEmpty)

        let admin = try await ec2.createSecurityGroup(name: unique("admin"), description: "admin", vpcID: vpc.id)
        let dev = try await ec2.createSecurityGroup(name: unique("dev"), description: "dev", vpcID: vpc.id,
                                                    tags: ["Owner": "ada"])
        try await ec2.authorizeIngress(groupID: dev, [EC2.Permission(fromPort: 8080, toPort: 8080, sourceGroupIDs: [admin]),
                                                      EC2.Permission(fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/16"])])
        var group = try #require(try await ec2.describeSecurityGroups(ids: [dev]).all { $0 }.first)
        #expect(group.tags["Owner"] == "ada")
        #expect(group.ingress.contains { $0.fromPort == 8080 && $0.sourceGroupIDs == [admin] })
        #expect(group.ingress.contains { $0.fromPort == 443 && $0.cidrs == ["10.0.0.0/16"] })
        try await ec2.revokeIngress(groupID: dev, [EC2.Permission(fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/16"])])
        group = try #require(try await ec2.describeSecurityGroups(ids: [dev]).all { $0 }.first)
        #expect(!group.ingress.contains { $0.fromPort == 443 })

        let name = unique("app")
        let template = try await ec2.createLaunchTemplate(name: name, data: .init(imageID: "ami-12c6146b", userData: "echo v1",
                                                                                  securityGroupIDs: [dev]))
        let version = try await ec2.createLaunchTemplateVersion(templateID: template.id,
                                                                data: .init(imageID: "ami-12c6146b", userData: "echo v2"))
        #expect(version == 2)
        try await ec2.setDefaultLaunchTemplateVersion(templateID: template.id, version: 2)
        let described = try #require(try await ec2.describeLaunchTemplates(names: [name]).first)
        #expect(described.defaultVersion == 2)
        #expect(described.latestVersion == 2)
        try await ec2.deleteLaunchTemplate(id: template.id)
        try await ec2.deleteSecurityGroup(id: dev)
        try await ec2.deleteSecurityGroup(id: admin)
    }

    @Test func iamUsersKeysGroupsPoliciesRolesAndProfiles() async throws {
        let iam = IAM(try await Fleet.shared().client())
        let path = "/\(unique("devs"))/"
        for index in 0..<3 { try await iam.createUser("dev-\(index)-\(path.dropFirst().dropLast())", path: path, tags: ["Team": "nuvola"]) }
        // (moto ignores MaxItems for IAM lists: one page here; paging is covered by S3 and SSM.)
        let users = try await iam.listUsers(pathPrefix: path, pageSize: 1).all { $0 }
        #expect(users.count == 3)
        #expect(users.allSatisfy { $0.path == path })
        let user = users[0].name
        #expect(try await iam.getUser(user)?.arn.hasSuffix("user\(path)\(user)") == true)
        #expect(try await iam.getUser("nobody-\(UUID().uuidString.prefix(6))") == nil)

        let group = unique("developers")
        try await iam.createGroup(group)
        try await iam.addUser(user, toGroup: group)
        #expect(try await iam.groups(ofUser: user) == [group])

        let document = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:StartSession","Resource":"*"}]}"#
        try await iam.putUserPolicy(user: user, name: "session", document: document)
        #expect(try await iam.listUserPolicies(user: user) == ["session"])
        let stored = try #require(try await iam.getUserPolicy(user: user, name: "session"))
        #expect(stored.contains("ssm:StartSession"))
        let managed = try await iam.createPolicy(name: unique("read"), document: document)
        try await iam.attachUserPolicy(user: user, policyARN: managed)
        #expect(try await iam.attachedUserPolicies(user: user) == [managed])

        let first = try await iam.createAccessKey(user: user)
        #expect(first.accessKeyID.hasPrefix("AKIA"))
        #expect(!first.secretAccessKey.isEmpty)
        #expect(!first.description.contains(first.secretAccessKey))
        let second = try await iam.createAccessKey(user: user)
        try await iam.updateAccessKey(user: user, accessKeyID: first.accessKeyID, active: false)
        let keys = try await iam.listAccessKeys(user: user)
        #expect(keys.first { $0.accessKeyID == first.accessKeyID }?.status == "Inactive")
        #expect(keys.first { $0.accessKeyID == second.accessKeyID }?.status == "Active")
        try await iam.deleteAccessKey(user: user, accessKeyID: first.accessKeyID)
        #expect(try await iam.listAccessKeys(user: user).map(\.accessKeyID) == [second.accessKeyID])

        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        let roleName = unique("devbox-role")
        let role = try await iam.createRole(name: roleName, assumeRolePolicy: trust)
        #expect(role.arn.hasSuffix(":role/\(roleName)"))
        try await iam.putRolePolicy(role: roleName, name: "s3", document: document)
        let profileName = unique("devbox-profile")
        try await iam.createInstanceProfile(profileName)
        try await iam.addRole(roleName, toInstanceProfile: profileName)
        #expect(try await iam.getInstanceProfile(profileName)?.roles == [roleName])
        try await iam.removeRole(roleName, fromInstanceProfile: profileName)
        try await iam.deleteInstanceProfile(profileName)
        try await iam.deleteRolePolicy(role: roleName, name: "s3")
        try await iam.deleteRole(roleName)
        #expect(try await iam.getRole(roleName) == nil)

        try await iam.detachUserPolicy(user: user, policyARN: managed)
        try await iam.deletePolicy(arn: managed)
        try await iam.deleteUserPolicy(user: user, name: "session")
        try await iam.removeUser(user, fromGroup: group)
        try await iam.deleteGroup(group)
        try await iam.deleteAccessKey(user: user, accessKeyID: second.accessKeyID)
        try await iam.deleteUser(user)
    }

    @Test func autoScalingGroupsAndLoadBalancing() async throws {
        let fleet = try await Fleet.shared()
        let ec2 = EC2(fleet.client())
        let scaling = AutoScaling(fleet.client())
        let elb = ELBv2(fleet.client())
        let vpc = try #require(try await ec2.describeVPCs().first { $0.isDefault })
        let subnets = try await ec2.describeSubnets(filters: [EC2.Filter("vpc-id", [vpc.id])])

        let balancer = try await elb.createLoadBalancer(name: unique("alb"), subnetIDs: subnets.prefix(2).map(\.id))
        let targets = try await elb.createTargetGroup(name: unique("prod"), vpcID: vpc.id)
        _ = try await elb.createListener(loadBalancerARN: balancer.arn, targetGroupARN: targets.arn)
        #expect(try await elb.describeLoadBalancers(names: [balancer.name]).all { $0 }.first?.arn == balancer.arn)
        #expect(try await elb.describeTargetGroups(arns: [targets.arn]).all { $0 }.first?.loadBalancerARNs == [balancer.arn])

        let template = try await ec2.createLaunchTemplate(name: unique("prod-lt"), data: .init(imageID: "ami-12c6146b"))
        let name = unique("prod-asg")
        var settings = AutoScaling.GroupSettings(minSize: 2, maxSize: 6, desiredCapacity: 2, launchTemplateID: template.id)
        settings.subnetIDs = subnets.prefix(2).map(\.id)
        settings.targetGroupARNs = [targets.arn]
        settings.tags = ["Environment": "prod"]
        try await scaling.createGroup(name: name, settings)
        var group = try #require(try await scaling.group(name))
        #expect(group.instances.count == 2)
        #expect(group.targetGroupARNs == [targets.arn])
        #expect(group.tags["Environment"] == "prod")

        try await scaling.setDesiredCapacity(group: name, 3)
        try await scaling.updateGroup(name: name, minSize: 3, maxSize: 8)
        group = try #require(try await scaling.group(name))
        #expect(group.instances.count == 3)
        #expect(group.maxSize == 8)

        _ = try await scaling.putTargetTrackingPolicy(group: name, name: "cpu50", targetValue: 50)
        let policies = try await scaling.describePolicies(group: name)
        #expect(policies.first?.type == "TargetTrackingScaling")
        #expect(policies.first?.targetValue == 50)

        let health = try await elb.describeTargetHealth(targetGroupARN: targets.arn)
        #expect(Set(health.map(\.instanceID)) == Set(group.instances.map(\.id)))
        let extra = try #require(try await ec2.runInstances(EC2.RunInstancesInput(imageID: "ami-12c6146b")).first)
        try await elb.registerTargets(targetGroupARN: targets.arn, instanceIDs: [extra.id])
        #expect(try await elb.describeTargetHealth(targetGroupARN: targets.arn).contains { $0.instanceID == extra.id })
        try await elb.deregisterTargets(targetGroupARN: targets.arn, instanceIDs: [extra.id])
        #expect(!(try await elb.describeTargetHealth(targetGroupARN: targets.arn).contains { $0.instanceID == extra.id && $0.state == "healthy" }))
        try await scaling.deleteGroup(name)
        try await ec2.terminateInstances([extra.id])
    }

    @Test func cloudFormationStacksEventsAndChangeSets() async throws {
        let cloudFormation = CloudFormation(try await Fleet.shared().client())
        let name = unique("nuvola-shared")
        let template = """
            AWSTemplateFormatVersion: "2010-09-09"
            Parameters:
              Release: {Type: String}
            Resources:
              Pointer:
                Type: AWS::SSM::Parameter
                Properties: {Name: !Sub "/${AWS::StackName}/release", Type: String, Value: !Ref Release}
            Outputs:
              PointerName: {Value: !Ref Pointer}
            """
        try await cloudFormation.createStack(name: name, template: template, parameters: ["Release": "r1"], tags: ["Project": "nuvola"])
        let stack = try await cloudFormation.waitUntilSettled(name, every: .milliseconds(200))
        #expect(stack.isHealthy)
        #expect(stack.outputs["PointerName"] == "/\(name)/release")
        #expect(stack.tags["Project"] == "nuvola")
        let events = try await cloudFormation.describeStackEvents(name).all { $0 }
        #expect(events.first?.logicalID == name)
        #expect(events.first?.status == "CREATE_COMPLETE")
        #expect(events.contains { $0.status == "CREATE_IN_PROGRESS" })

        _ = try await cloudFormation.createChangeSet(stack: name, name: "to-r2", template: template, parameters: ["Release": "r2"])
        let changes = try await cloudFormation.describeChangeSet(stack: name, name: "to-r2")
        // (moto lists no resource changes for a parameter-only change; AWS would show Modify Pointer.)
        #expect(changes.status == "CREATE_COMPLETE")
        #expect(changes.executionStatus == "AVAILABLE")
        try await cloudFormation.executeChangeSet(stack: name, name: "to-r2")
        let updated = try await cloudFormation.waitUntilSettled(name, every: .milliseconds(200))
        #expect(updated.parameters["Release"] == "r2")
        #expect(try await SSM(Fleet.shared().client()).getParameter("/\(name)/release")?.Value == "r2")

        try await cloudFormation.updateStack(name: name, template: template, parameters: ["Release": "r3"])
        let third = try await cloudFormation.waitUntilSettled(name, every: .milliseconds(200))
        #expect(third.parameters["Release"] == "r3")
        _ = try await cloudFormation.createChangeSet(stack: name, name: "abandoned", template: template, parameters: ["Release": "r4"])
        try await cloudFormation.deleteChangeSet(stack: name, name: "abandoned")
        await #expect(throws: AWSError.self) { try await cloudFormation.describeChangeSet(stack: name, name: "abandoned") }

        try await cloudFormation.deleteStack(name)
        #expect(try await cloudFormation.stack(name).map { $0.status == "DELETE_COMPLETE" } ?? true)
        #expect(try await cloudFormation.stack(unique("never-made")) == nil)
    }
}
