"""Run Command behaves as AWS documents it, seen through boto3: request validation, MaxErrors
accounting, cancellation of what has not run, DescribeInstanceInformation's filters, and one
queue per agent."""
import os
import time

import botocore.exceptions
import pytest

from test_runcommand import agent_root, launch, wait


@pytest.mark.parametrize("member,value", [("MaxErrors", "abc"), ("MaxErrors", "101%"), ("MaxConcurrency", "0"),
                                          ("MaxConcurrency", "1x"), ("MaxConcurrency", "12345678")])
def test_malformed_limits_are_a_400_validation_exception(simulator, member, value):
    [instance] = launch(simulator, 1, {"Role": "validated"})
    ssm = simulator.client("ssm", max_attempts=1)
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance], Parameters={"commands": ["true"]},
                         **{member: value})
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert "failed to satisfy constraint" in error["Error"]["Message"]
    assert ssm.list_commands(InstanceId=instance)["Commands"] == []        # nothing was sent


def test_undeliverable_does_not_count_against_max_errors(simulator):
    instances = launch(simulator, 3, {"Role": "one-offline"})
    ssm = simulator.client("ssm")
    ssm.describe_instance_information()
    simulator.fleet("agent", "--instance", instances[0], "--offline")
    try:
        command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instances, MaxConcurrency="1",
                                   MaxErrors="0", Parameters={"commands": ["echo ran > /ran"]})["Command"]
        results = {item["InstanceId"]: (item["Status"], item["StatusDetails"]) for item in wait(ssm, command["CommandId"], 3)}
    finally:
        simulator.fleet("agent", "--instance", instances[0], "--online")
    assert results == {instances[0]: ("Failed", "Undeliverable"), instances[1]: ("Success", "Success"),
                       instances[2]: ("Success", "Success")}
    summary = ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]
    assert (summary["Status"], summary["ErrorCount"], summary["CompletedCount"]) == ("Success", 0, 3)


def test_execution_timeouts_count_against_max_errors(simulator):
    instances = launch(simulator, 3, {"Role": "slowpokes"})
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instances, MaxConcurrency="1",
                               MaxErrors="0", Parameters={"commands": ["sleep 5"], "executionTimeout": ["1"]})["Command"]
    results = sorted((item["Status"], item["StatusDetails"]) for item in wait(ssm, command["CommandId"], 3))
    assert results == [("Cancelled", "Terminated"), ("Cancelled", "Terminated"), ("TimedOut", "ExecutionTimedOut")]
    summary = ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]
    assert (summary["Status"], summary["StatusDetails"], summary["ErrorCount"]) == ("TimedOut", "ExecutionTimedOut", 1)


def test_a_cancelled_pending_invocation_never_runs(simulator):
    first, second = launch(simulator, 2, {"Role": "queued"})
    ssm = simulator.client("ssm")
    ssm.describe_instance_information()
    # Not yet sent (MaxConcurrency 1, the first is busy) ...
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[first, second], MaxConcurrency="1",
                               Parameters={"commands": ["sleep 2", "echo ran > /ran"]})["Command"]
    # ... and sent but not yet delivered (a slow agent).
    simulator.fleet("agent", "--instance", second, "--delay", "1.5")
    try:
        slow = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[second],
                                Parameters={"commands": ["echo ran > /ran-slow"]})["Command"]
        time.sleep(0.5)
        ssm.cancel_command(CommandId=command["CommandId"])
        ssm.cancel_command(CommandId=slow["CommandId"])
        results = {item["InstanceId"]: (item["Status"], item["StatusDetails"], item["CommandPlugins"][0]["ResponseCode"])
                   for item in wait(ssm, command["CommandId"], 2)}
        [late] = wait(ssm, slow["CommandId"], 1)
        time.sleep(2.5)                                      # past the delivery delay and the first's sleep
    finally:
        simulator.fleet("agent", "--instance", second, "--delay", "0")
    assert results == {first: ("Cancelled", "Cancelled", 137), second: ("Cancelled", "Cancelled", -1)}
    assert (late["Status"], late["StatusDetails"]) == ("Cancelled", "Cancelled")
    for instance, name in ((first, "ran"), (second, "ran"), (second, "ran-slow")):
        assert not os.path.exists(os.path.join(agent_root(simulator, instance), name))
    summary = ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]
    assert (summary["Status"], summary["StatusDetails"]) == ("Cancelled", "Cancelled")


def test_describe_instance_information_filters(simulator):
    instances = launch(simulator, 2, {"Role": "filtered", "Owner": "ana"})
    ssm = simulator.client("ssm", max_attempts=1)
    ssm.describe_instance_information()
    simulator.fleet("agent", "--instance", instances[1], "--offline")
    try:
        def ids(**request):
            pages = ssm.get_paginator("describe_instance_information").paginate(**request)
            return {item["InstanceId"] for page in pages for item in page["InstanceInformationList"]} & set(instances)

        assert ids(Filters=[{"Key": "tag:Role", "Values": ["filtered"]}]) == set(instances)
        assert ids(Filters=[{"Key": "tag-key", "Values": ["Owner"]}, {"Key": "PingStatus", "Values": ["Online"]}]) == {instances[0]}
        assert ids(InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["ConnectionLost"]}]) == {instances[1]}
        assert ids(Filters=[{"Key": "PlatformTypes", "Values": ["Windows"]}]) == set()
        assert ids(Filters=[{"Key": "ResourceType", "Values": ["EC2Instance"]},
                            {"Key": "InstanceIds", "Values": instances}]) == set(instances)
        for request, code in [({"Filters": [{"Key": "Colour", "Values": ["blue"]}]}, "InvalidFilterKey"),
                              ({"Filters": [{"Key": "PingStatus", "Values": ["Up"]}]}, "InvalidInstanceInformationFilterValue")]:
            with pytest.raises(botocore.exceptions.ClientError) as refused:
                ssm.describe_instance_information(**request)
            assert refused.value.response["Error"]["Code"] == code
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    finally:
        simulator.fleet("agent", "--instance", instances[1], "--online")


def test_busy_agents_do_not_delay_another_instance(simulator):
    """80 sleeping commands on 80 instances: a command to an 81st starts at once (a shared pool of
    64 workers used to make it wait for a sleeper to end)."""
    sleepers = []
    for _ in range(4):
        sleepers += launch(simulator, 20, {"Role": "sleepers"})
    [quick] = launch(simulator, 1, {"Role": "quick"})
    ssm = simulator.client("ssm")
    asleep = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=sleepers, MaxConcurrency="100%",
                              Parameters={"commands": ["sleep 60"]})["Command"]
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            pages = ssm.get_paginator("list_command_invocations").paginate(CommandId=asleep["CommandId"])
            if sum(1 for page in pages for item in page["CommandInvocations"] if item["Status"] == "InProgress") == 80:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the 80 sleepers did not all start")
        started = time.time()
        command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[quick],
                                   Parameters={"commands": ["echo quick"]})["Command"]
        [item] = wait(ssm, command["CommandId"], 1, timeout=20)
        elapsed = time.time() - started
        assert item["Status"] == "Success"
        assert elapsed < 5, f"a command on an idle instance took {elapsed:.1f} s"
    finally:
        ssm.cancel_command(CommandId=asleep["CommandId"])
    deadline = time.time() + 60
    while ssm.list_commands(CommandId=asleep["CommandId"])["Commands"][0]["Status"] != "Cancelled":
        assert time.time() < deadline, "the sleepers were not cancelled"
        time.sleep(0.2)
    pages = ssm.get_paginator("list_command_invocations").paginate(CommandId=asleep["CommandId"])
    assert {(item["Status"], item["StatusDetails"]) for page in pages for item in page["CommandInvocations"]} == \
        {("Cancelled", "Cancelled")}


def test_terminated_instances_are_not_valid_targets(simulator):
    [gone] = launch(simulator, 1, {"Role": "gone"})
    simulator.client("ec2").terminate_instances(InstanceIds=[gone])
    ssm = simulator.client("ssm", max_attempts=1)
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[gone], Parameters={"commands": ["true"]})
    assert refused.value.response["Error"]["Code"] == "InvalidInstanceId"
