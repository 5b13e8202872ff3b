"""IAM as AWS evaluates it, through boto3 with real users' keys: resources, conditions, policy
variables and explicit denies decide, and a denial reads as AWS writes it."""
import json
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from test_runcommand import launch, wait

ACCOUNT = "123456789012"
REGION = "eu-west-3"


def user(simulator, statements, name=None):
    """A new IAM user with one inline policy; (name, a function making its boto3 clients)."""
    name = name or f"dev-{uuid.uuid4().hex[:8]}"
    iam = simulator.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="access",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]

    def client(service):
        return boto3.client(service, endpoint_url=simulator.endpoint, region_name=REGION,
                            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                            config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    return name, client


def denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call()
    return refused.value.response


def instance_arn(instance):
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance}"


READ_RESULTS = {"Effect": "Allow", "Action": ["ssm:ListCommands", "ssm:ListCommandInvocations", "ssm:GetCommandInvocation"],
                "Resource": "*"}


def test_the_documented_least_privilege_send_command_policy_is_allowed(simulator):
    [instance] = launch(simulator, 1, {"Role": "least"})
    name, client = user(simulator, [
        {"Effect": "Allow", "Action": "ssm:SendCommand",
         "Resource": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*", f"arn:aws:ssm:{REGION}::document/AWS-RunShellScript"]},
        READ_RESULTS])
    ssm = client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance],
                               Parameters={"commands": ["echo allowed"]})["Command"]
    [item] = wait(ssm, command["CommandId"], 1)
    assert (item["Status"], item["CommandPlugins"][0]["Output"]) == ("Success", "allowed\n")

    simulator.client("ssm").create_document(Name="NuvolaOther", DocumentType="Command", DocumentFormat="JSON", Content=(
        '{"schemaVersion":"2.2","description":"x","mainSteps":[{"action":"aws:runShellScript","name":"x",'
        '"inputs":{"runCommand":["true"]}}]}'))
    error = denied(lambda: ssm.send_command(DocumentName="NuvolaOther", InstanceIds=[instance]))
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDeniedException", 400)
    assert error["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: ssm:SendCommand on resource: "
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/NuvolaOther because no identity-based policy allows the ssm:SendCommand action")
    # ListCommands takes no resource: only Resource "*" covers it, as on AWS.
    assert ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]["Status"] == "Success"


def test_a_tag_conditioned_allow_denies_untagged_and_other_owners_instances(simulator):
    name = f"ana-{uuid.uuid4().hex[:6]}"
    [own] = launch(simulator, 1, {"Owner": name})
    [untagged] = launch(simulator, 1, {"Role": "nobody"})
    [other] = launch(simulator, 1, {"Owner": "someone-else"})
    _, client = user(simulator, [
        {"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": f"arn:aws:ec2:*:{ACCOUNT}:instance/*",
         "Condition": {"StringEquals": {"ssm:resourceTag/Owner": "${aws:username}"}}},
        {"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": f"arn:aws:ssm:*::document/AWS-RunShellScript"},
        READ_RESULTS], name=name)
    ssm = client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[own], Parameters={"commands": ["true"]})
    assert wait(ssm, command["Command"]["CommandId"], 1)[0]["Status"] == "Success"
    by_tag = ssm.send_command(DocumentName="AWS-RunShellScript", Targets=[{"Key": "tag:Owner", "Values": [name]}],
                              Parameters={"commands": ["true"]})["Command"]
    assert by_tag["TargetCount"] == 1
    for instance in (untagged, other):
        error = denied(lambda: ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance],
                                                Parameters={"commands": ["true"]}))
        assert error["Error"]["Code"] == "AccessDeniedException"
        assert error["Error"]["Message"] == (
            f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: ssm:SendCommand on resource: "
            f"{instance_arn(instance)} because no identity-based policy allows the ssm:SendCommand action")
    error = denied(lambda: ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[own, other],
                                            Parameters={"commands": ["true"]}))
    assert instance_arn(other) in error["Error"]["Message"]                  # every instance must be allowed
    error = denied(lambda: ssm.send_command(DocumentName="AWS-RunShellScript",
                                            Targets=[{"Key": "tag:Owner", "Values": ["someone-else"]}],
                                            Parameters={"commands": ["true"]}))
    assert instance_arn(other) in error["Error"]["Message"]                  # tag targets resolve to instances


def test_an_explicit_deny_wins_and_says_so(simulator):
    [prod] = launch(simulator, 1, {"Role": "prod"})
    [dev] = launch(simulator, 1, {"Role": "dev"})
    name, client = user(simulator, [
        {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ssm:SendCommand", "Resource": "*",
         # Not ...IfExists: the document has no Role tag, and IfExists would deny it too (as on AWS).
         "Condition": {"StringEquals": {"ssm:resourceTag/Role": ["prod", "prod-db"]}}}])
    ssm = client("ssm")
    assert ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[dev], Parameters={"commands": ["true"]})
    error = denied(lambda: ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[prod],
                                            Parameters={"commands": ["true"]}))
    assert error["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: ssm:SendCommand on resource: "
        f"{instance_arn(prod)} with an explicit deny in an identity-based policy")


def test_operations_moto_answers_are_evaluated_on_their_resources(simulator):
    admin = simulator.client("ssm")
    for parameter in ("/dev/ana/url", "/prod/db/password"):
        admin.put_parameter(Name=parameter, Value="v", Type="String", Overwrite=True)
    name, client = user(simulator, [
        {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"],
         "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/dev/${{aws:username}}/*"}], name="ana")
    ssm = client("ssm")
    assert ssm.get_parameter(Name="/dev/ana/url")["Parameter"]["Value"] == "v"
    error = denied(lambda: ssm.get_parameter(Name="/prod/db/password"))
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/ana is not authorized to perform: ssm:GetParameter on resource: "
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/db/password because no identity-based policy allows the "
        "ssm:GetParameter action")
    assert denied(lambda: ssm.get_parameters(Names=["/dev/ana/url", "/prod/db/password"]))["Error"]["Code"] == \
        "AccessDeniedException"
    assert denied(lambda: ssm.describe_parameters())["Error"]["Code"] == "AccessDeniedException"


def test_ec2_instance_actions_follow_resource_tags_and_answer_unauthorized_operation(simulator):
    name = f"bo-{uuid.uuid4().hex[:6]}"
    [own] = launch(simulator, 1, {"Owner": name})
    [other] = launch(simulator, 1, {"Owner": "ana"})
    _, client = user(simulator, [
        {"Effect": "Allow", "Action": ["ec2:StopInstances", "ec2:StartInstances"], "Resource": "*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/Owner": "${aws:username}"}}},
        {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}], name=name)
    ec2 = client("ec2")
    assert ec2.stop_instances(InstanceIds=[own])["StoppingInstances"][0]["InstanceId"] == own
    error = denied(lambda: ec2.stop_instances(InstanceIds=[other]))
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("UnauthorizedOperation", 403)
    assert f"is not authorized to perform: ec2:StopInstances on resource: {instance_arn(other)}" in error["Error"]["Message"]
    assert ec2.describe_instances(InstanceIds=[own])["Reservations"]


def test_start_session_needs_the_instance_and_checks_the_document_when_asked(simulator):
    name = f"cy-{uuid.uuid4().hex[:6]}"
    [own] = launch(simulator, 1, {"Owner": name})
    [other] = launch(simulator, 1, {"Owner": "ana"})
    _, client = user(simulator, [
        {"Effect": "Allow", "Action": "ssm:StartSession", "Resource": f"arn:aws:ec2:*:*:instance/*",
         "Condition": {"StringLike": {"ssm:resourceTag/Owner": ["${aws:username}"]}}},
        {"Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/SSM-SessionManagerRunShell",
         "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}}], name=name)
    ssm = client("ssm")
    error = denied(lambda: ssm.start_session(Target=other))
    assert error["Error"]["Code"] == "AccessDeniedException" and instance_arn(other) in error["Error"]["Message"]
    error = denied(lambda: ssm.start_session(Target=own, DocumentName="AWS-StartPortForwardingSession"))
    assert f"document/AWS-StartPortForwardingSession" in error["Error"]["Message"]
    # Allowed: whatever moto then says about the session, it is not a denial.
    try:
        ssm.start_session(Target=own)
    except botocore.exceptions.ClientError as error:
        assert "AccessDenied" not in error.response["Error"]["Code"], error.response


def test_an_assumed_role_is_decided_by_the_roles_policies(simulator):
    iam = simulator.client("iam")
    name = f"reader-{uuid.uuid4().hex[:6]}"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "*",
         "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{name}"}}}]}))
    credentials = simulator.client("sts").assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
    ssm = boto3.client("ssm", endpoint_url=simulator.endpoint, region_name=REGION,
                       aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                       aws_session_token=credentials["SessionToken"],
                       config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    assert "Parameters" in ssm.describe_parameters()
    error = denied(lambda: ssm.put_parameter(Name="/role/x", Value="v", Type="String"))
    assert error["Error"]["Message"].startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/s1 is not authorized to perform: ssm:PutParameter on resource: "
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/role/x")


def test_a_trust_policy_that_names_someone_else_refuses_assume_role(simulator):
    iam = simulator.client("iam")
    name = f"theirs-{uuid.uuid4().hex[:6]}"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/somebody"}}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    error = denied(lambda: simulator.client("sts", max_attempts=1).assume_role(RoleArn=role, RoleSessionName="s2"))
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert error["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/fleet-admin is not authorized to perform: sts:AssumeRole on resource: {role} "
        "because no resource-based policy allows the sts:AssumeRole action")


def test_s3_operations_are_decided_by_s3s_own_action_names(simulator):
    """HeadBucket and listing need s3:ListBucket, HeadObject s3:GetObject, a multipart upload
    s3:PutObject: IAM's S3 actions are not the operations' names."""
    admin = simulator.client("s3")
    bucket = f"reader-{uuid.uuid4().hex[:8]}"
    admin.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    admin.put_object(Bucket=bucket, Key="dumps/prod/a.sql.gz", Body=b"dump")
    _, client = user(simulator, [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/dumps/*"}])
    s3 = client("s3")
    s3.head_bucket(Bucket=bucket)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dumps/prod/a.sql.gz"]
    assert s3.head_object(Bucket=bucket, Key="dumps/prod/a.sql.gz")["ContentLength"] == 4
    assert denied(lambda: s3.create_multipart_upload(Bucket=bucket, Key="dumps/prod/b.sql.gz"))["Error"]["Code"] == "AccessDenied"
    assert denied(lambda: s3.list_object_versions(Bucket=bucket))["Error"]["Code"] == "AccessDenied"
    admin.put_object(Bucket=bucket, Key="artifacts/prod/r1.tar.gz", Body=b"release")
    assert denied(lambda: s3.head_object(Bucket=bucket, Key="artifacts/prod/r1.tar.gz"))["Error"]["Code"] in ("403", "AccessDenied")


def test_a_listing_carries_its_prefix_for_s3_prefix_conditions(simulator):
    """s3:ListBucket conditioned on s3:prefix (how the instance roles may list only dumps/prod/):
    a listing under the prefix is allowed, one of the whole bucket or elsewhere is not."""
    admin = simulator.client("s3")
    bucket = f"prefixed-{uuid.uuid4().hex[:8]}"
    admin.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    admin.put_object(Bucket=bucket, Key="dumps/prod/a.sql.gz", Body=b"dump")
    _, client = user(simulator, [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
                                  "Condition": {"StringLike": {"s3:prefix": ["dumps/prod/*"]}}}])
    s3 = client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="dumps/prod/2026")
    assert listed["KeyCount"] == 0
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dumps/prod/")["Contents"]] == ["dumps/prod/a.sql.gz"]
    assert denied(lambda: s3.list_objects_v2(Bucket=bucket))["Error"]["Code"] == "AccessDenied"
    assert denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="artifacts/"))["Error"]["Code"] == "AccessDenied"
