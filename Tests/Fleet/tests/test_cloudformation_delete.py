"""DeleteStack, exports and imports, and an injected resource failure, as the CloudFormation user
guide describes them (providers/cloudformation.py)."""
import pytest
from botocore.exceptions import ClientError

NETWORK = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.9.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.9.1.0/24}
  Gateway:
    Type: AWS::EC2::InternetGateway
  Attachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Gateway}
  Routes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  Association:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Subnet, RouteTableId: !Ref Routes}
  Database:
    Type: AWS::RDS::DBInstance
    DeletionPolicy: Snapshot
    Properties: {Engine: mysql, DBInstanceClass: db.t3.micro, AllocatedStorage: "20", MasterUsername: admin,
                 MasterUserPassword: not-a-secret-1, DeletionProtection: true}
  Kept:
    Type: AWS::S3::Bucket
    DeletionPolicy: RetainExceptOnCreate
    Properties: {BucketName: !Sub "${AWS::StackName}-kept"}
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: {Name: !Sub "${AWS::StackName}-VpcId"}
"""

USER = """
Resources:
  Marker:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !ImportValue network-VpcId}
"""


def status(cloudformation, name):
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        assert "does not exist" in str(error)
        return None


def events(cloudformation, name):
    return [(event["LogicalResourceId"], event["ResourceStatus"], event.get("ResourceStatusReason"))
            for event in reversed(cloudformation.describe_stack_events(StackName=name)["StackEvents"])]


def create_with_change_set(cloudformation, name, template):
    cloudformation.create_change_set(StackName=name, ChangeSetName="first", TemplateBody=template, ChangeSetType="CREATE")
    cloudformation.execute_change_set(StackName=name, ChangeSetName="first")


def test_a_stack_in_use_protected_or_with_strays_is_not_deleted_and_a_second_delete_finishes(simulator):
    cloudformation, rds, ec2, s3 = (simulator.client(name) for name in ("cloudformation", "rds", "ec2", "s3"))
    create_with_change_set(cloudformation, "network", NETWORK)
    stack_id = cloudformation.describe_stacks(StackName="network")["Stacks"][0]["StackId"]
    # Exports of a change-set-created stack are importable and listed (moto: only after CreateStack).
    assert [export["Name"] for export in cloudformation.list_exports()["Exports"]] == ["network-VpcId"]
    cloudformation.create_stack(StackName="user", TemplateBody=USER)
    assert cloudformation.list_imports(ExportName="network-VpcId")["Imports"] == ["user"]

    cloudformation.delete_stack(StackName="network")
    assert status(cloudformation, "network") == "DELETE_FAILED"
    assert events(cloudformation, "network")[-1] == ("network", "DELETE_FAILED", "Export network-VpcId cannot be deleted as it is in use by user")

    cloudformation.delete_stack(StackName="user")
    with pytest.raises(ClientError, match="is not imported by any stack"):
        cloudformation.list_imports(ExportName="network-VpcId")
    # RetainResources only for a stack in DELETE_FAILED; this one is, but nothing is retained yet.
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                 cloudformation.list_stack_resources(StackName="network")["StackResourceSummaries"]}
    database = resources["Database"]
    assert rds.describe_db_instances(DBInstanceIdentifier=database)["DBInstances"][0]["DeletionProtection"] is True
    stray = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=resources["Subnet"])["Instances"][0]

    def failures():
        return {logical: reason for logical, state, reason in events(cloudformation, "network") if state == "DELETE_FAILED"}

    # A failure stops the deletion after the resources already under way; the rest stays.
    cloudformation.delete_stack(StackName="network")
    assert status(cloudformation, "network") == "DELETE_FAILED"
    assert failures()["Database"].startswith("Cannot delete protected DB Instance, please disable deletion protection")
    assert "Subnet" not in failures()
    rds.modify_db_instance(DBInstanceIdentifier=database, DeletionProtection=False, ApplyImmediately=True)
    cloudformation.delete_stack(StackName="network")
    assert status(cloudformation, "network") == "DELETE_FAILED"
    assert failures()["Subnet"].startswith(f"The subnet '{resources['Subnet']}' has dependencies and cannot be deleted.")
    assert rds.describe_db_instances()["DBInstances"] == []

    ec2.terminate_instances(InstanceIds=[stray["InstanceId"]])
    cloudformation.delete_stack(StackName="network")
    assert status(cloudformation, "network") is None
    states = events(cloudformation, stack_id)   # a deleted stack is described by its id only
    # Dependents go first: the association before its route table and subnet, the subnet before the VPC.
    order = [logical for logical, state, _ in states if state == "DELETE_COMPLETE"]
    assert order.index("Association") < order.index("Routes") < order.index("Vpc")
    assert order.index("Subnet") < order.index("Vpc") and order.index("Attachment") < order.index("Gateway")
    assert ("Kept", "DELETE_SKIPPED", None) in states
    # What the policies promised: a final snapshot of the database, the bucket kept, the network gone.
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=database, SnapshotType="manual")["DBSnapshots"]
    assert len(snapshots) == 1
    assert s3.head_bucket(Bucket="network-kept")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [vpc for vpc in ec2.describe_vpcs()["Vpcs"] if vpc["CidrBlock"] == "10.9.0.0/16"] == []
    assert cloudformation.list_exports()["Exports"] == []
    # Deleting what is gone (or never was) succeeds and does nothing.
    cloudformation.delete_stack(StackName="network")
    cloudformation.delete_stack(StackName="never-there")


def test_an_injected_resource_failure_rolls_the_first_creation_back(simulator):
    cloudformation, s3 = simulator.client("cloudformation"), simulator.client("s3")
    simulator.fleet("inject", "--kind", "resource-failure", "--service", "cloudformation", "--operation", "Database",
                    "--count", "1", "--message", "DB instance quota exceeded")
    template = NETWORK.replace("${AWS::StackName}-kept", "rolled-kept")
    create_with_change_set(cloudformation, "rolled", template)
    assert status(cloudformation, "rolled") == "ROLLBACK_COMPLETE"
    states = events(cloudformation, "rolled")
    assert ("Database", "CREATE_FAILED", "DB instance quota exceeded") in states
    assert states[-1][:2] == ("rolled", "ROLLBACK_COMPLETE")
    assert any(state == "ROLLBACK_IN_PROGRESS" for _, state, _ in states)
    # RetainExceptOnCreate: a failed first creation takes the bucket with it; the stack exports nothing.
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket="rolled-kept")
    assert cloudformation.list_exports()["Exports"] == []
    cloudformation.delete_stack(StackName="rolled")
    assert status(cloudformation, "rolled") is None


def test_a_change_writes_each_resources_events_and_drift_detection_finds_hand_edits(simulator):
    cloudformation, ec2 = simulator.client("cloudformation"), simulator.client("ec2")
    template = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.8.0.0/16}
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      VpcId: !Ref Vpc
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 10.0.0.0/8}]
  Marker:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: x}
"""
    create_with_change_set(cloudformation, "drifting", template)
    states = events(cloudformation, "drifting")
    assert ("Vpc", "CREATE_IN_PROGRESS", None) in states and ("Group", "CREATE_COMPLETE", None) in states
    assert states[-1][:2] == ("drifting", "CREATE_COMPLETE")          # the stack's own event comes last

    def detect():
        detection = cloudformation.detect_stack_drift(StackName="drifting")["StackDriftDetectionId"]
        result = cloudformation.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        assert result["DetectionStatus"] == "DETECTION_COMPLETE"
        drifts = {d["LogicalResourceId"]: d for d in
                  cloudformation.describe_stack_resource_drifts(StackName="drifting")["StackResourceDrifts"]}
        return result["StackDriftStatus"], drifts

    status, drifts = detect()
    assert status == "IN_SYNC"
    assert drifts["Group"]["StackResourceDriftStatus"] == "IN_SYNC"
    assert drifts["Marker"]["StackResourceDriftStatus"] == "NOT_CHECKED"   # a type drift detection does not check
    group = drifts["Group"]["PhysicalResourceId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    status, drifts = detect()
    assert status == "DRIFTED"
    assert drifts["Group"]["StackResourceDriftStatus"] == "MODIFIED"
    assert drifts["Group"]["PropertyDifferences"] == [{
        "PropertyPath": "/SecurityGroupIngress", "ExpectedValue": "null", "DifferenceType": "ADD",
        "ActualValue": '{"CidrIp": "0.0.0.0/0", "FromPort": 22, "IpProtocol": "tcp", "ToPort": 22}'}]
    only = cloudformation.describe_stack_resource_drifts(StackName="drifting", StackResourceDriftStatusFilters=["MODIFIED"])
    assert [d["LogicalResourceId"] for d in only["StackResourceDrifts"]] == ["Group"]


def test_no_value_removes_a_list_item(simulator):
    cloudformation, ec2 = simulator.client("cloudformation"), simulator.client("ec2")
    template = """
Parameters:
  Extra: {Type: String, Default: ""}
Conditions:
  HasExtra: !Not [!Equals [!Ref Extra, ""]]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.7.0.0/16}
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 10.0.0.0/8}
        - !If [HasExtra, {IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: !Ref Extra}, !Ref AWS::NoValue]
"""
    for name, extra, expected in (("novalue-off", "", ["10.0.0.0/8"]), ("novalue-on", "192.0.2.0/24", ["10.0.0.0/8", "192.0.2.0/24"])):
        cloudformation.create_stack(StackName=name, TemplateBody=template, Parameters=[{"ParameterKey": "Extra", "ParameterValue": extra}])
        assert status(cloudformation, name) == "CREATE_COMPLETE"
        group = [r["PhysicalResourceId"] for r in cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
                 if r["LogicalResourceId"] == "Group"][0]
        rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
        assert sorted(r["CidrIp"] for rule in rules for r in rule["IpRanges"]) == expected


def test_a_change_set_that_does_not_exist_is_not_found_as_aws_says(simulator):
    cloudformation = simulator.client("cloudformation")
    create_with_change_set(cloudformation, "changesets", NETWORK)
    cloudformation.create_change_set(StackName="changesets", ChangeSetName="second", TemplateBody=NETWORK.replace("10.9.", "10.8."),
                                     ChangeSetType="UPDATE")
    assert cloudformation.describe_change_set(StackName="changesets", ChangeSetName="second")["ExecutionStatus"] in ("AVAILABLE", "UNAVAILABLE")
    cloudformation.delete_change_set(StackName="changesets", ChangeSetName="second")
    for call in (cloudformation.describe_change_set, cloudformation.execute_change_set):
        with pytest.raises(ClientError) as failure:
            call(StackName="changesets", ChangeSetName="second")
        assert failure.value.response["Error"]["Code"] == "ChangeSetNotFound"
        assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert failure.value.response["Error"]["Message"] == "ChangeSet [second] does not exist"


def test_executing_a_change_set_removes_the_stacks_others(simulator):
    cloudformation = simulator.client("cloudformation")
    create_with_change_set(cloudformation, "racing", NETWORK)
    for name, prefix in (("one", "10.8."), ("two", "10.7.")):
        cloudformation.create_change_set(StackName="racing", ChangeSetName=name, TemplateBody=NETWORK.replace("10.9.", prefix),
                                         ChangeSetType="UPDATE")
    cloudformation.execute_change_set(StackName="racing", ChangeSetName="one")
    with pytest.raises(ClientError) as failure:
        cloudformation.execute_change_set(StackName="racing", ChangeSetName="two")
    assert failure.value.response["Error"]["Code"] == "ChangeSetNotFound"
    names = [item["ChangeSetName"] for item in cloudformation.list_change_sets(StackName="racing")["Summaries"]]
    assert "two" not in names
