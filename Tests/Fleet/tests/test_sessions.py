"""Session Manager's records (simulator/sessions.py) through boto3: sessions named and owned as
AWS names them, listed Active or History with the API's filters, ended by TerminateSession or with
their instance, under IAM's session resource; and an access key dated back through the control API."""
import json
import time
import urllib.request
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from test_runcommand import launch

ACCOUNT = "123456789012"


def developer(simulator, name):
    """An IAM user allowed sessions on instances tagged Owner=<them> and ending only their own."""
    iam = simulator.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="sessions", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"StringEquals": {"ssm:resourceTag/Owner": "${aws:username}"}}},
        {"Effect": "Allow", "Action": ["ssm:TerminateSession", "ssm:ResumeSession"],
         "Resource": f"arn:aws:ssm:*:{ACCOUNT}:session/${{aws:username}}-*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("ssm", endpoint_url=simulator.endpoint, region_name=simulator.env["AWS_REGION"],
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def sessions(ssm, state, **filters):
    return ssm.describe_sessions(State=state, Filters=[{"key": key, "value": value} for key, value in filters.items()])["Sessions"]


def test_sessions_are_named_owned_listed_and_ended_as_aws_does(simulator):
    name = f"se{uuid.uuid4().hex[:6]}"
    other = f"ot{uuid.uuid4().hex[:6]}"
    [own] = launch(simulator, 1, {"Owner": name})
    [theirs] = launch(simulator, 1, {"Owner": other})
    mine, them = developer(simulator, name), developer(simulator, other)
    started = mine.start_session(Target=own)
    assert started["SessionId"].startswith(f"{name}-") and len(started["SessionId"]) == len(name) + 18
    assert started["StreamUrl"].startswith(f"wss://ssmmessages.eu-west-3.amazonaws.com/v1/data-channel/{started['SessionId']}")
    second = mine.start_session(Target=own)["SessionId"]
    theirs_session = them.start_session(Target=theirs)["SessionId"]

    admin = simulator.client("ssm")
    active = sessions(admin, "Active", Target=own)
    assert {item["SessionId"] for item in active} == {started["SessionId"], second}
    owner = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert all(item["Owner"] == owner and item["Status"] == "Connected" and item["Target"] == own and
               item["DocumentName"] == "SSM-SessionManagerRunShell" and "EndDate" not in item for item in active)
    assert {item["SessionId"] for item in sessions(admin, "Active", Owner=owner)} == {started["SessionId"], second}
    assert [item["SessionId"] for item in sessions(admin, "Active", SessionId=theirs_session)] == [theirs_session]
    assert sessions(admin, "History", Target=own) == []

    # Only their own sessions may they end (session/${aws:username}-*); TerminateSession moves one to History.
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        mine.terminate_session(SessionId=theirs_session)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"session/{theirs_session}" in denied.value.response["Error"]["Message"]
    assert mine.terminate_session(SessionId=second)["SessionId"] == second
    assert {item["SessionId"] for item in sessions(admin, "Active", Target=own)} == {started["SessionId"]}
    [ended] = sessions(admin, "History", Target=own)
    assert (ended["SessionId"], ended["Status"]) == (second, "Terminated") and ended["EndDate"] >= ended["StartDate"]
    assert admin.terminate_session(SessionId=started["SessionId"])["SessionId"] == started["SessionId"]
    assert sessions(admin, "Active", Target=own) == []

    # A session ends with its instance; an instance whose agent is gone takes none.
    simulator.client("ec2").terminate_instances(InstanceIds=[theirs])
    assert sessions(admin, "Active", SessionId=theirs_session) == []
    assert sessions(admin, "History", SessionId=theirs_session)[0]["Status"] == "Terminated"
    simulator.fleet("agent", "--instance", own, "--offline")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        mine.start_session(Target=own)
    assert refused.value.response["Error"]["Code"] == "TargetNotConnected"


def test_describe_sessions_refuses_what_the_api_refuses(simulator):
    ssm = simulator.client("ssm")
    for request, code in (({"State": "Open"}, "ValidationException"),
                          ({"State": "Active", "Filters": [{"key": "Colour", "value": "x"}]}, "InvalidFilterKey"),
                          ({"State": "Active", "Filters": [{"key": "InvokedAfter", "value": "yesterday"}]}, "InvalidFilterValue")):
        with pytest.raises(botocore.exceptions.ClientError) as error:
            ssm.describe_sessions(**request)
        assert error.value.response["Error"]["Code"] == code, request
    with pytest.raises(botocore.exceptions.ClientError) as error:
        ssm.describe_sessions(State="Active", NextToken="abc")
    assert error.value.response["Error"]["Code"] == "InvalidNextToken"
    [instance] = launch(simulator, 1, {"Owner": "pages"})
    for _ in range(3):
        ssm.start_session(Target=instance)
    first = ssm.describe_sessions(State="Active", MaxResults=2, Filters=[{"key": "Target", "value": instance}])
    assert len(first["Sessions"]) == 2 and first["NextToken"]
    rest = ssm.describe_sessions(State="Active", MaxResults=2, NextToken=first["NextToken"],
                                 Filters=[{"key": "Target", "value": instance}])
    assert len(rest["Sessions"]) == 1 and "NextToken" not in rest
    assert all(item["SessionId"].startswith("fleet-admin-") for item in first["Sessions"] + rest["Sessions"])


def test_an_access_key_can_be_dated_back_for_age_checks(simulator):
    iam = simulator.client("iam")
    name = f"old{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    created = time.time() - 120 * 86400
    request = urllib.request.Request(f"{simulator.endpoint}/_fleet/iam/access-keys", method="POST",
                                     data=json.dumps({"userName": name, "accessKeyId": key, "created": created}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["accessKeyId"] == key
    [listed] = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert abs(listed["CreateDate"].timestamp() - created) < 2
    unknown = urllib.request.Request(f"{simulator.endpoint}/_fleet/iam/access-keys", method="POST",
                                     data=json.dumps({"userName": name, "accessKeyId": "AKIANOPE", "created": 0}).encode())
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(unknown)
    assert error.value.code == 400
