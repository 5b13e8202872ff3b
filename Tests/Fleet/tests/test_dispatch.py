"""Errors in every service's own protocol, faults around any handler, idempotency tokens and the
CloudFormation hooks, seen from boto3 as a user of AWS would."""
import time

import botocore.exceptions
import pytest


# Each service's cheapest call, and the throttling code its protocol family answers with.
SERVICES = [
    ("sts", lambda c: c.get_caller_identity(), "Throttling"),
    ("ec2", lambda c: c.describe_instances(), "RequestLimitExceeded"),
    ("s3", lambda c: c.list_buckets(), "SlowDown"),
    ("ssm", lambda c: c.describe_parameters(), "ThrottlingException"),
    ("ssm", lambda c: c.list_commands(), "ThrottlingException"),                       # one of our own handlers
    ("secretsmanager", lambda c: c.list_secrets(), "ThrottlingException"),
    ("kms", lambda c: c.list_keys(), "ThrottlingException"),
    ("cloudwatch", lambda c: c.list_metrics(), "Throttling"),                           # query-compatible JSON
    ("application-autoscaling", lambda c: c.describe_scalable_targets(ServiceNamespace="ecs"), "ThrottlingException"),
    ("autoscaling", lambda c: c.describe_auto_scaling_groups(), "Throttling"),
    ("elbv2", lambda c: c.describe_load_balancers(), "Throttling"),
    ("cloudformation", lambda c: c.list_stacks(), "Throttling"),
    ("iam", lambda c: c.list_users(), "Throttling"),
]


@pytest.mark.parametrize("service,call,code", SERVICES, ids=[f"{item[0]}-{index}" for index, item in enumerate(SERVICES)])
def test_throttling_reaches_boto3_with_its_code_and_is_retried(simulator, service, call, code):
    client = simulator.client(service)
    name = client.meta.service_model.signing_name
    simulator.fleet("inject", "--kind", "throttle", "--service", name, "--count", "2")
    answer = call(client)
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    simulator.fleet("inject", "--kind", "throttle", "--service", name, "--count", "1")
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        call(simulator.client(service, max_attempts=1))
    assert failure.value.response["Error"]["Code"] == code


def test_drop_after_processing_runs_send_command_twice(simulator):
    ec2, ssm = simulator.client("ec2"), simulator.client("ssm")
    [instance] = [item["InstanceId"] for item in ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                  TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "twice"}]}])["Instances"]]
    ssm.describe_instance_information()
    simulator.fleet("inject", "--kind", "drop-after", "--service", "ssm", "--operation", "SendCommand", "--count", "1")
    answer = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance], Comment="twice",
                              Parameters={"commands": ["echo ran >> runs.txt"]})
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    commands = [item for item in ssm.list_commands(InstanceId=instance)["Commands"] if item["Comment"] == "twice"]
    assert len(commands) == 2                       # SendCommand has no client token: it ran twice, as on AWS
    deadline = time.time() + 20
    path = f"{simulator.state}/instances/{instance}/root/runs.txt"
    while time.time() < deadline:
        try:
            if open(path).read() == "ran\nran\n":
                break
        except OSError:
            pass
        time.sleep(0.1)
    assert open(path).read() == "ran\nran\n"


def test_client_tokens_make_a_retry_after_a_lost_response_harmless(simulator):
    ec2 = simulator.client("ec2")
    before = sum(len(item["Instances"]) for item in ec2.describe_instances()["Reservations"])
    simulator.fleet("inject", "--kind", "drop-after", "--service", "ec2", "--operation", "RunInstances", "--count", "1")
    answer = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)   # boto3 sets a ClientToken
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    after = sum(len(item["Instances"]) for item in ec2.describe_instances()["Reservations"])
    assert after == before + 1
    again = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, ClientToken=answer["Instances"][0]["ClientToken"] or "x")
    if answer["Instances"][0].get("ClientToken"):
        assert again["Instances"][0]["InstanceId"] == answer["Instances"][0]["InstanceId"]
    with pytest.raises(botocore.exceptions.ClientError) as mismatch:
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2, ClientToken="token-1")
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, ClientToken="token-1")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatch"

    cloudformation = simulator.client("cloudformation")
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  P:\n    Type: AWS::SSM::Parameter\n'
                '    Properties: {Name: /tokens/p, Type: String, Value: v}\n')
    simulator.fleet("inject", "--kind", "drop-after", "--service", "cloudformation", "--operation", "CreateStack", "--count", "1")
    created = cloudformation.create_stack(StackName="tokens", TemplateBody=template, ClientRequestToken="create-tokens-1")
    assert created["ResponseMetadata"]["RetryAttempts"] == 1                   # no AlreadyExistsException
    stacks = [item for item in cloudformation.list_stacks()["StackSummaries"] if item["StackName"] == "tokens"]
    assert len(stacks) == 1 and stacks[0]["StackId"] == created["StackId"]
    with pytest.raises(cloudformation.exceptions.AlreadyExistsException):
        cloudformation.create_stack(StackName="tokens", TemplateBody=template, ClientRequestToken="another")


def test_unchanged_template_gives_a_failed_change_set(simulator):
    cloudformation = simulator.client("cloudformation")
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nParameters:\n  V: {Type: String}\nResources:\n'
                '  P:\n    Type: AWS::SSM::Parameter\n    Properties: {Name: /unchanged/p, Type: String, Value: !Ref V}\n')
    parameters = [{"ParameterKey": "V", "ParameterValue": "same"}]
    cloudformation.create_stack(StackName="unchanged", TemplateBody=template, Parameters=parameters)
    answer = cloudformation.create_change_set(StackName="unchanged", ChangeSetName="again", TemplateBody=template,
                                              Parameters=parameters, ChangeSetType="UPDATE")
    described = cloudformation.describe_change_set(ChangeSetName=answer["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"].startswith("The submitted information didn't contain changes.")
    assert answer["StackId"] == described["StackId"]
    names = [item["ChangeSetName"] for item in cloudformation.list_change_sets(StackName="unchanged")["Summaries"]]
    assert "again" in names


def test_a_bucket_public_access_block_in_a_template_is_applied(simulator):
    cloudformation, s3 = simulator.client("cloudformation"), simulator.client("s3")
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Artifacts:\n    Type: AWS::S3::Bucket\n'
                '    Properties:\n      BucketName: cfn-blocked\n      PublicAccessBlockConfiguration:\n'
                '        {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}\n')
    cloudformation.create_stack(StackName="blocked", TemplateBody=template)
    block = s3.get_public_access_block(Bucket="cfn-blocked")["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    # Through a change set, as adminctl deploys templates:
    created = cloudformation.create_change_set(StackName="blocked-by-change-set", ChangeSetName="first", ChangeSetType="CREATE",
                                               TemplateBody=template.replace("cfn-blocked", "cfn-blocked-2"))
    cloudformation.execute_change_set(ChangeSetName=created["Id"])
    assert s3.get_public_access_block(Bucket="cfn-blocked-2")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True


def test_a_target_tracking_policy_in_a_template_is_applied(simulator):
    cloudformation, scaling = simulator.client("cloudformation"), simulator.client("autoscaling")
    template = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties: {LaunchTemplateName: cfn-scaled, LaunchTemplateData: {ImageId: ami-12c6146b}}
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      AutoScalingGroupName: cfn-scaled
      MinSize: "1"
      MaxSize: "3"
      AvailabilityZones: [eu-west-3a]
      LaunchTemplate: {LaunchTemplateId: !Ref Template, Version: !GetAtt Template.LatestVersionNumber}
  Cpu:
    Type: AWS::AutoScaling::ScalingPolicy
    Properties:
      AutoScalingGroupName: !Ref Group
      PolicyType: TargetTrackingScaling
      TargetTrackingConfiguration:
        PredefinedMetricSpecification: {PredefinedMetricType: ASGAverageCPUUtilization}
        TargetValue: 50
'''
    cloudformation.create_stack(StackName="scaled", TemplateBody=template)
    [policy] = scaling.describe_policies(AutoScalingGroupName="cfn-scaled")["ScalingPolicies"]
    assert policy["PolicyType"] == "TargetTrackingScaling" and policy["PolicyName"].startswith("scaled-Cpu-")
    configuration = policy["TargetTrackingConfiguration"]
    assert configuration["TargetValue"] == 50
    assert configuration["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ASGAverageCPUUtilization"


def test_short_get_att_of_a_database_endpoint(simulator):
    cloudformation, ssm = simulator.client("cloudformation"), simulator.client("ssm")
    template = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DB:
    Type: AWS::RDS::DBInstance
    Properties: {DBInstanceIdentifier: getatt-db, Engine: mysql, DBInstanceClass: db.t3.micro, AllocatedStorage: "20",
                 MasterUsername: admin, MasterUserPassword: secret123}
  Host:
    Type: AWS::SSM::Parameter
    Properties: {Name: /getatt/host, Type: String, Value: !GetAtt DB.Endpoint.Address}
  Port:
    Type: AWS::SSM::Parameter
    Properties: {Name: /getatt/port, Type: String, Value: !GetAtt DB.Endpoint.Port}
'''
    cloudformation.create_stack(StackName="getatt", TemplateBody=template)
    assert cloudformation.describe_stacks(StackName="getatt")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert ssm.get_parameter(Name="/getatt/host")["Parameter"]["Value"].startswith("getatt-db.")
    assert str(ssm.get_parameter(Name="/getatt/port")["Parameter"]["Value"]) == "3306"   # moto gives the number


def create_through_change_set(cloudformation, name, template, parameters=()):
    answer = cloudformation.create_change_set(StackName=name, ChangeSetName="first", TemplateBody=template,
                                              ChangeSetType="CREATE", Capabilities=["CAPABILITY_NAMED_IAM"],
                                              Parameters=list(parameters))
    deadline = time.time() + 30
    while cloudformation.describe_change_set(ChangeSetName=answer["Id"])["Status"] != "CREATE_COMPLETE":
        assert time.time() < deadline
        time.sleep(0.1)
    cloudformation.execute_change_set(ChangeSetName=answer["Id"])
    return cloudformation.describe_stacks(StackName=name)["Stacks"][0]


def test_stacks_made_by_change_sets_export_and_import(simulator):
    """A CREATE change set's stack registers its exports, and another one imports them (moto:
    "No export named ... found"); `!Select [!Ref Index, ...]` resolves its index."""
    cloudformation = simulator.client("cloudformation")
    exporter = ('Resources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties: {Name: /exports/p, Type: String, '
                'Value: "a,b"}\nOutputs:\n  Pair:\n    Value: "first,second"\n    Export: {Name: !Sub "${AWS::StackName}-Pair"}\n')
    create_through_change_set(cloudformation, "exporter", exporter)
    exports = {e["Name"]: e["Value"] for e in cloudformation.list_exports()["Exports"]}
    assert exports["exporter-Pair"] == "first,second"
    importer = ('Parameters:\n  Index: {Type: Number, Default: 1}\nResources:\n  P:\n    Type: AWS::SSM::Parameter\n'
                '    Properties:\n      Name: /exports/imported\n      Type: String\n'
                '      Value: !Select [!Ref Index, !Split [",", !ImportValue exporter-Pair]]\n')
    stack = create_through_change_set(cloudformation, "importer", importer)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert simulator.client("ssm").get_parameter(Name="/exports/imported")["Parameter"]["Value"] == "second"


def test_deleting_a_stack_detaches_its_managed_policies_from_its_user_and_role(simulator):
    """CloudFormation detaches a stack's AWS::IAM::ManagedPolicy before deleting it, so the user
    and role it is attached to can go too (moto: DeleteConflict, DeleteStack failed). A role's tag
    list from the template does not break the identity of its sessions."""
    cloudformation, iam = simulator.client("cloudformation"), simulator.client("iam")
    template = '''Resources:
  User: {Type: AWS::IAM::User, Properties: {UserName: leaving}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      Tags: [{Key: Owner, Value: leaving}]
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {AWS: "123456789012"}, Action: sts:AssumeRole}]}
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Users: [!Ref User]
      Roles: [!Ref Role]
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ssm:GetParameter", Resource: "*"}]}
Outputs:
  Role: {Value: !GetAtt Role.Arn}
'''
    stack = create_through_change_set(cloudformation, "leaving", template)
    role = stack["Outputs"][0]["OutputValue"]
    credentials = simulator.client("sts").assume_role(RoleArn=role, RoleSessionName="session")["Credentials"]
    import boto3
    as_role = boto3.client("sts", endpoint_url=simulator.endpoint, region_name="eu-west-3",
                           aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                           aws_session_token=credentials["SessionToken"])
    assert as_role.get_caller_identity()["Arn"].endswith("/session")
    assert iam.list_attached_user_policies(UserName="leaving")["AttachedPolicies"]
    cloudformation.delete_stack(StackName="leaving")
    users = [u["UserName"] for u in iam.list_users()["Users"]]
    assert "leaving" not in users
    assert not [p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"].startswith("leaving-")]


def test_calls_are_counted_by_the_key_that_signed_them(simulator):
    """`GET /_fleet/calls`: how many requests each access key made, per operation (the figure of
    API calls per command); DELETE starts the count again."""
    import json
    import urllib.request
    base = simulator.endpoint + "/_fleet/calls"
    urllib.request.urlopen(urllib.request.Request(base, method="DELETE")).read()
    ssm = simulator.client("ssm")
    for _ in range(3):
        ssm.describe_instance_information()
    calls = json.loads(urllib.request.urlopen(base).read())["byKey"]
    mine = [c for c in calls if c["accessKeyId"] == simulator.env["AWS_ACCESS_KEY_ID"] and c["operation"] == "DescribeInstanceInformation"]
    assert [c["count"] for c in mine] == [3] and mine[0]["service"] == "ssm"
