"""What the simulator corrects in moto 5.2 so that EC2, Auto Scaling, S3 and CloudFormation answer
as AWS documents them, each on its own (the shared template's tests in adminctl/tests see the same
behaviour through that one stack): launch templates, zone balancing, resource properties moto's
CloudFormation dropped, and bucket policies' conditions."""
import json
import time
import uuid

import botocore.exceptions
import pytest

REGION = "eu-west-3"
AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def instance_profile(simulator):
    iam = simulator.client("iam")
    name = unique("app")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return profile


def network(simulator, zones=("a", "a", "b")):
    """A VPC with one subnet per entry of `zones` (in eu-west-3<zone>), and a security group."""
    ec2 = simulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{index}.0/24", AvailabilityZone=f"{REGION}{zone}")
               ["Subnet"]["SubnetId"] for index, zone in enumerate(zones)]
    group = ec2.create_security_group(GroupName=unique("app"), Description="app instances", VpcId=vpc)["GroupId"]
    return vpc, subnets, group


def volumes_of(ec2, instance_id):
    found = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"]
    return sorted((v["Attachments"][0]["Device"], v["Encrypted"], v["Size"]) for v in found)


# --- launch templates -------------------------------------------------------------------------------
def test_an_instance_takes_the_templates_profile_metadata_options_and_root_mapping(simulator):
    ec2 = simulator.client("ec2")
    image = simulator.client("ssm").get_parameter(Name=AL2023)["Parameter"]["Value"]
    root = ec2.describe_images(ImageIds=[image])["Images"][0]["RootDeviceName"]
    assert root == "/dev/xvda"
    profile = instance_profile(simulator)
    _vpc, subnets, group = network(simulator, zones=("a",))
    template = ec2.create_launch_template(LaunchTemplateName=unique("app"), LaunchTemplateData={
        "ImageId": image, "InstanceType": "t3.micro", "IamInstanceProfile": {"Arn": profile["Arn"]},
        "SecurityGroupIds": [group], "EbsOptimized": True, "Monitoring": {"Enabled": True},
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
        "BlockDeviceMappings": [{"DeviceName": root, "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "Encrypted": True}}]},
    )["LaunchTemplate"]["LaunchTemplateId"]
    launched = ec2.run_instances(MinCount=2, MaxCount=2, SubnetId=subnets[0],
                                 LaunchTemplate={"LaunchTemplateId": template})["Instances"]
    for instance in ec2.describe_instances(InstanceIds=[i["InstanceId"] for i in launched])["Reservations"][0]["Instances"]:
        assert instance["IamInstanceProfile"]["Arn"] == profile["Arn"]
        assert instance["MetadataOptions"]["HttpTokens"] == "required"
        assert instance["EbsOptimized"] is True and instance["Monitoring"]["State"] == "enabled"
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group]
        # The template's mapping for the image's root device replaces the image's root volume.
        assert volumes_of(ec2, instance["InstanceId"]) == [("/dev/xvda", True, 20)]
    # What the request gives wins over the template.
    explicit = ec2.run_instances(MinCount=1, MaxCount=1, SubnetId=subnets[0], LaunchTemplate={"LaunchTemplateId": template},
                                 MetadataOptions={"HttpTokens": "optional"})["Instances"][0]
    assert explicit["MetadataOptions"]["HttpTokens"] == "optional"


def test_without_a_mapping_the_root_volume_is_at_the_images_root_device(simulator):
    ec2 = simulator.client("ec2")
    image = simulator.client("ssm").get_parameter(Name=AL2023)["Parameter"]["Value"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    assert volumes_of(ec2, instance["InstanceId"]) == [("/dev/xvda", False, 8)]


# --- Auto Scaling groups ------------------------------------------------------------------------
def group_zones(simulator, name):
    group = simulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    ids = [i["InstanceId"] for i in group["Instances"]]
    reservations = simulator.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return [(i["Placement"]["AvailabilityZone"], i["SubnetId"]) for r in reservations for i in r["Instances"]]


def test_a_group_balances_its_instances_over_its_zones_and_launches_its_version(simulator):
    ec2, autoscaling = simulator.client("ec2"), simulator.client("autoscaling")
    _vpc, subnets, group = network(simulator, zones=("a", "a", "b"))
    name = unique("app")
    template = ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "SecurityGroupIds": [group],
        "MetadataOptions": {"HttpTokens": "required"}})["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.small"})
    autoscaling.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=10, DesiredCapacity=4,
                                          LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
                                          VPCZoneIdentifier=",".join(subnets))
    placed = group_zones(simulator, name)
    # Two per zone (not four in the first subnet); zone a's two go one to each of its subnets.
    assert sorted(zone for zone, _ in placed) == [f"{REGION}a"] * 2 + [f"{REGION}b"] * 2
    assert sorted(subnet for zone, subnet in placed if zone.endswith("a")) == sorted(subnets[:2])
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=5)
    assert sorted(zone for zone, _ in group_zones(simulator, name)).count(f"{REGION}a") == 3   # a tie: the first zone
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=6)
    assert sorted(zone for zone, _ in group_zones(simulator, name)).count(f"{REGION}b") == 3   # the zone with fewer
    ids = [i["InstanceId"] for i in autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"]]
    for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
            assert tags["aws:ec2launchtemplate:version"] == "1" and instance["InstanceType"] == "t3.micro"
            assert instance["MetadataOptions"]["HttpTokens"] == "required"


def test_a_scale_in_terminates_from_the_zone_with_the_most(simulator):
    ec2, autoscaling = simulator.client("ec2"), simulator.client("autoscaling")
    _vpc, subnets, group = network(simulator, zones=("a", "b"))
    name = unique("app")
    autoscaling.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=10, DesiredCapacity=2,
                                          LaunchTemplate={"LaunchTemplateId": ec2.create_launch_template(
                                              LaunchTemplateName=name, LaunchTemplateData={
                                                  "ImageId": "ami-12c6146b", "SecurityGroupIds": [group]})
                                              ["LaunchTemplate"]["LaunchTemplateId"]},
                                          VPCZoneIdentifier=subnets[0])
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=name, VPCZoneIdentifier=",".join(subnets))
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=4)
    assert sorted(zone for zone, _ in group_zones(simulator, name)) == [f"{REGION}a"] * 2 + [f"{REGION}b"] * 2
    # The default termination policy picks from the zone with the most each time: one from each
    # (moto terminated the first members, both in zone a, which left zone a empty).
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=2)
    assert sorted(zone for zone, _ in group_zones(simulator, name)) == [f"{REGION}a", f"{REGION}b"]


# --- CloudFormation: what moto accepted and dropped ------------------------------------------------------
def create(simulator, name, template):
    cloudformation = simulator.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                cloudformation.describe_stack_resources(StackName=name)["StackResources"]}
    return stack, physical


def bucket_template(suffix):
    logs, data = f"logs-{suffix}", f"data-{suffix}"
    tls_only = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [{"Fn::GetAtt": ["Data", "Arn"]}, {"Fn::Sub": "${Data.Arn}/*"}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    return {"Resources": {
        "Logs": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": logs}},
        "LogsPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Logs"}, "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                                    "Action": "s3:PutObject", "Resource": {"Fn::Sub": "${Logs.Arn}/s3/*"}}]}}},
        "Data": {"Type": "AWS::S3::Bucket", "DependsOn": "LogsPolicy", "DeletionPolicy": "Retain", "Properties": {
            "BucketName": data,
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": "s3/data/"},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "old", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 3},
                {"Id": "versions", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}, "ExpiredObjectDeleteMarker": True}]}}},
        "DataPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Data"}, "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [tls_only]}}},
    }}, logs, data


def test_a_stacks_buckets_get_their_policies_versioning_ownership_lifecycle_and_logging(simulator):
    template, logs, data = bucket_template(uuid.uuid4().hex[:8])
    name = unique("buckets")
    _stack, physical = create(simulator, name, template)
    assert (physical["DataPolicy"], physical["LogsPolicy"]) == (data, logs)    # a bucket policy is known by its bucket
    s3 = simulator.client("s3")
    statements = json.loads(s3.get_bucket_policy(Bucket=data)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["DenyInsecureTransport"]
    assert s3.get_bucket_versioning(Bucket=data)["Status"] == "Enabled"
    assert s3.get_bucket_ownership_controls(Bucket=data)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=data)["Rules"]}
    assert rules["old"]["Filter"]["Prefix"] == "tmp/" and rules["old"]["Expiration"]["Days"] == 3
    assert rules["versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    assert rules["versions"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert rules["versions"]["Expiration"]["ExpiredObjectDeleteMarker"] is True
    assert s3.get_bucket_logging(Bucket=data)["LoggingEnabled"] == {"TargetBucket": logs, "TargetPrefix": "s3/data/"}
    assert s3.get_bucket_encryption(Bucket=data)["ServerSideEncryptionConfiguration"]["Rules"][0]["BucketKeyEnabled"] is True
    # The TLS-only Deny does not refuse requests (every AWS endpoint is HTTPS).
    s3.put_object(Bucket=data, Key="tmp/a", Body=b"x")
    assert s3.get_object(Bucket=data, Key="tmp/a")["Body"].read() == b"x"
    assert s3.list_objects_v2(Bucket=logs, Prefix="s3/data/")["KeyCount"] >= 1     # the access log of those requests
    # Deleting the stack deletes the policies even from the buckets it keeps (DeletionPolicy Retain).
    cloudformation = simulator.client("cloudformation")
    cloudformation.delete_stack(StackName=name)
    assert cloudformation.describe_stacks(StackName=_stack["StackId"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        s3.get_bucket_policy(Bucket=data)
    assert gone.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    assert s3.get_object(Bucket=data, Key="tmp/a")["Body"].read() == b"x"


def test_a_bucket_policys_conditions_decide_what_it_denies(simulator):
    s3 = simulator.client("s3")
    bucket = unique("guarded")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key="keep/a", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/keep/*"}]}))
    s3.put_object(Bucket=bucket, Key="scratch/b", Body=b"y")
    s3.delete_object(Bucket=bucket, Key="scratch/b")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key="keep/a")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3.get_object(Bucket=bucket, Key="keep/a")["Body"].read() == b"x"


def test_a_stacks_network_roles_balancer_and_outputs_are_as_declared(simulator):
    template = {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.50.0.0/16"}},
            "SubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.50.0.0/24",
                "AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}},
            "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.50.1.0/24",
                "AvailabilityZone": {"Fn::Select": [1, {"Fn::GetAZs": {"Ref": "AWS::Region"}}]}}},
            "Table": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "TableA": {"Type": "AWS::EC2::SubnetRouteTableAssociation",
                       "Properties": {"SubnetId": {"Ref": "SubnetA"}, "RouteTableId": {"Ref": "Table"}}},
            "Balancers": {"Type": "AWS::EC2::SecurityGroup",
                          "Properties": {"GroupDescription": "balancer", "VpcId": {"Ref": "Vpc"}}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "Policies": [{"PolicyName": "read", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}]}},
            "Balancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
                "Subnets": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}], "SecurityGroups": [{"Ref": "Balancers"}],
                "LoadBalancerAttributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "20"},
                                           {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]}},
            "Targets": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "Protocol": "HTTP", "Port": 80,
                "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "15"}]}},
        },
        "Outputs": {
            "Zone": {"Value": {"Fn::Join": [",", {"Fn::GetAZs": ""}]}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-Zones"}}},
            "PortA": {"Value": "3306", "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-PortA"}}},
            "PortB": {"Value": "3306", "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-PortB"}}},
        },
    }
    name = unique("network")
    stack, physical = create(simulator, name, template)
    ec2, iam, elbv2 = simulator.client("ec2"), simulator.client("iam"), simulator.client("elbv2")
    outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
    assert outputs["Zone"]["OutputValue"] == f"{REGION}a,{REGION}b,{REGION}c"
    assert {key: outputs[key]["ExportName"] for key in ("PortA", "PortB")} == {"PortA": f"{name}-PortA", "PortB": f"{name}-PortB"}
    zones = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets(
        SubnetIds=[physical["SubnetA"], physical["SubnetB"]])["Subnets"]}
    assert zones == {physical["SubnetA"]: f"{REGION}a", physical["SubnetB"]: f"{REGION}b"}
    associated = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [physical["SubnetA"]]}])["RouteTables"]
    assert [t["RouteTableId"] for t in associated] == [physical["Table"]]
    assert physical["TableA"] in [a["RouteTableAssociationId"] for a in associated[0]["Associations"]]
    role = physical["Role"]
    document = iam.get_role_policy(RoleName=role, PolicyName="read")["PolicyDocument"]
    assert document["Statement"][0]["Action"] == "s3:GetObject"
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == \
        ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    attributes = {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(
        LoadBalancerArn=physical["Balancer"])["Attributes"]}
    assert attributes["idle_timeout.timeout_seconds"] == "20"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    attributes = {a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(
        TargetGroupArn=physical["Targets"])["Attributes"]}
    assert attributes["deregistration_delay.timeout_seconds"] == "15"
    # Deleting the stack detaches the role's managed policy first, as CloudFormation does.
    cloudformation = simulator.client("cloudformation")
    cloudformation.delete_stack(StackName=name)
    assert cloudformation.describe_stacks(StackName=stack["StackId"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert role not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def test_a_database_takes_its_vpc_security_groups(simulator):
    _vpc, subnets, group = network(simulator, zones=("a", "b"))
    template = {"Resources": {
        "Subnets": {"Type": "AWS::RDS::DBSubnetGroup",
                    "Properties": {"DBSubnetGroupDescription": "db", "SubnetIds": subnets[:2]}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "mysql", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": 20, "MasterUsername": "admin",
            "ManageMasterUserPassword": True, "DBSubnetGroupName": {"Ref": "Subnets"}, "VPCSecurityGroups": [group]}}},
        "Outputs": {"Secret": {"Value": {"Fn::GetAtt": ["Db", "MasterUserSecret.SecretArn"]}},
                    "Arn": {"Value": {"Fn::GetAtt": ["Db", "DBInstanceArn"]}}}}
    stack, physical = create(simulator, unique("db"), template)
    database = simulator.client("rds").describe_db_instances(DBInstanceIdentifier=physical["Db"])["DBInstances"][0]
    assert [g["VpcSecurityGroupId"] for g in database["VpcSecurityGroups"]] == [group]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs == {"Secret": database["MasterUserSecret"]["SecretArn"], "Arn": database["DBInstanceArn"]}


def test_a_stacks_group_egress_instance_launch_template_and_user_tags_are_applied(simulator):
    """SecurityGroupEgress replaces the allow-all rule; an AWS::EC2::Instance launched from its
    LaunchTemplate takes its MetadataOptions; an AWS::IAM::User keeps its Tags (moto ignored all three)."""
    vpc, subnets, _ = network(simulator, zones=("a",))
    user = unique("taggeduser")
    template = {"Resources": {
        "Peer": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "peer", "VpcId": vpc}},
        "Narrow": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "narrow", "VpcId": vpc, "SecurityGroupEgress": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "https"},
                {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "DestinationSecurityGroupId": {"Ref": "Peer"}}]}},
        "Template": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
            "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 1}}}},
        "Machine": {"Type": "AWS::EC2::Instance", "Properties": {
            "ImageId": "ami-12c6146b", "SubnetId": subnets[0], "SecurityGroupIds": [{"Ref": "Narrow"}],
            "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Template"},
                               "Version": {"Fn::GetAtt": ["Template", "LatestVersionNumber"]}}}},
        "Person": {"Type": "AWS::IAM::User", "Properties": {"UserName": user, "Tags": [
            {"Key": "Owner", "Value": user}, {"Key": "Email", "Value": ""}]}}},
        "Outputs": {"Narrow": {"Value": {"Ref": "Narrow"}}, "Peer": {"Value": {"Ref": "Peer"}},
                    "Machine": {"Value": {"Ref": "Machine"}}}}
    stack, _ = create(simulator, unique("egress"), template)
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack["Outputs"]}
    ec2 = simulator.client("ec2")
    [narrow] = ec2.describe_security_groups(GroupIds=[outputs["Narrow"]])["SecurityGroups"]
    egress = sorted(narrow["IpPermissionsEgress"], key=lambda rule: rule["FromPort"])
    assert [(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in egress] == [("tcp", 443, 443), ("tcp", 3306, 3306)]
    assert egress[0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "https"}]
    assert [pair["GroupId"] for pair in egress[1]["UserIdGroupPairs"]] == [outputs["Peer"]]
    [peer] = ec2.describe_security_groups(GroupIds=[outputs["Peer"]])["SecurityGroups"]
    assert [rule["IpProtocol"] for rule in peer["IpPermissionsEgress"]] == ["-1"]   # none stated: AWS's allow-all stays
    machine = ec2.describe_instances(InstanceIds=[outputs["Machine"]])["Reservations"][0]["Instances"][0]
    assert machine["MetadataOptions"]["HttpTokens"] == "required"
    assert [group["GroupId"] for group in machine["SecurityGroups"]] == [outputs["Narrow"]]
    tags = {tag["Key"]: tag["Value"] for tag in simulator.client("iam").list_user_tags(UserName=user)["Tags"]}
    assert tags == {"Owner": user, "Email": ""}


def test_sub_reads_an_attribute_with_dots_as_getatt_does(simulator):
    """`!Sub "${Db.MasterUserSecret.SecretArn}"` names attribute MasterUserSecret.SecretArn (split at
    the first dot, as CloudFormation does); moto split at every dot and failed the stack."""
    template = {"Resources": {
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "mysql", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": 20, "MasterUsername": "admin",
            "ManageMasterUserPassword": True}}},
        "Outputs": {"Secret": {"Value": {"Fn::Sub": "secret ${Db.MasterUserSecret.SecretArn} of ${Db}"}},
                    "Arn": {"Value": {"Fn::Sub": "${Db.DBInstanceArn}"}}}}
    stack, physical = create(simulator, unique("sub"), template)
    database = simulator.client("rds").describe_db_instances(DBInstanceIdentifier=physical["Db"])["DBInstances"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs == {"Secret": f"secret {database['MasterUserSecret']['SecretArn']} of {physical['Db']}",
                       "Arn": database["DBInstanceArn"]}
