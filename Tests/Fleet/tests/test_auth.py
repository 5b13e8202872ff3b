"""Request authentication behaves like AWS for real AWS clients (boto3, awscli)."""
import os
import sys
import subprocess
import time
import urllib.error
import urllib.request

import botocore.exceptions
import pytest


def test_admin_identity_and_wrong_secret(simulator):
    sts = simulator.client("sts")
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/fleet-admin"
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        simulator.client("sts", secret="wrong").get_caller_identity()
    assert failure.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize("key", ["plain.sql.gz", "with space.sql", "ünïcode.sql", "a+b&c=d.sql", "dir/sub/x.sql"])
def test_s3_keys_with_any_characters_are_signed_correctly(simulator, key):
    s3 = simulator.client("s3")
    bucket = "auth-keys"
    try:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=bucket, Key=key, Body=b"data")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"data"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key.split("/")[0])
    assert key in [item["Key"] for item in listed["Contents"]]


def test_presigned_urls_are_verified_and_expire(simulator):
    s3 = simulator.client("s3")
    s3.create_bucket(Bucket="presign", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(Bucket="presign", Key="ü.txt", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "ü.txt"}, ExpiresIn=60)
    assert urllib.request.urlopen(url).read() == b"hello"
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(tampered)
    assert failure.value.code == 403
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "ü.txt"}, ExpiresIn=1)
    time.sleep(2)
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(short)
    assert expired.value.code == 403
    assert b"Request has expired" in expired.value.read()


def test_form_bodies_are_hashed_as_sent(simulator):
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  P:\n    Type: AWS::SSM::Parameter\n'
                '    Properties: {Name: !Sub "/${AWS::StackName}/x", Type: String, Value: "a b & c"}\n')
    cloudformation = simulator.client("cloudformation")
    cloudformation.create_stack(StackName="spaces", TemplateBody=template)
    assert cloudformation.describe_stacks(StackName="spaces")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_awscli_uses_the_exported_environment(simulator):
    environment = dict(os.environ, **simulator.env)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    output = subprocess.run([aws, "sts", "get-caller-identity", "--output", "text"], env=environment,
                            capture_output=True, text=True, check=True).stdout
    assert "user/fleet-admin" in output


def test_rest_json_gets_and_deletes_are_signed_over_the_empty_payload(simulator):
    """EventBridge Scheduler's GetSchedule and DeleteSchedule (REST-JSON, no body): moto checked
    them over the query's parameters and refused every correct signature."""
    scheduler = simulator.client("scheduler")
    scheduler.create_schedule(Name="signed-get", ScheduleExpression="cron(0 3 * * ? *)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": "arn:aws:scheduler:::aws-sdk:ssm:sendCommand",
                                      "RoleArn": "arn:aws:iam::123456789012:role/scheduler", "Input": "{}"})
    assert scheduler.get_schedule(Name="signed-get")["ScheduleExpression"] == "cron(0 3 * * ? *)"
    scheduler.delete_schedule(Name="signed-get")
    try:
        scheduler.get_schedule(Name="signed-get")
        raise AssertionError("the schedule is still there")
    except scheduler.exceptions.ResourceNotFoundException:
        pass
