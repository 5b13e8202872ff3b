"""SSM Run Command in the simulator, driven only by boto3 as a user of AWS would."""
import os
import time

import pytest


def launch(simulator, count, tags):
    ec2 = simulator.client("ec2")
    reservation = ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}])
    return [item["InstanceId"] for item in reservation["Instances"]]


def wait(ssm, command_id, count, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        invocations = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]
        if len(invocations) == count and all(item["Status"] not in ("Pending", "InProgress", "Delayed", "Cancelling") for item in invocations):
            return invocations
        time.sleep(0.1)
    raise AssertionError(f"command {command_id} did not finish")


def agent_root(simulator, instance):
    return os.path.join(simulator.state, "instances", instance, "root")


def test_send_by_tag_runs_real_bash_in_each_root(simulator):
    instances = launch(simulator, 3, {"Role": "tagged"})
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", Targets=[{"Key": "tag:Role", "Values": ["tagged"]}],
                               Parameters={"commands": ["echo $FLEET_INSTANCE_ID > id.txt", "echo out; echo err >&2"],
                                           "workingDirectory": ["/srv/app"]})["Command"]
    assert command["TargetCount"] == 3
    invocations = wait(ssm, command["CommandId"], 3)
    assert {item["InstanceId"] for item in invocations} == set(instances)
    for item in invocations:
        plugin = item["CommandPlugins"][0]
        assert (item["Status"], plugin["ResponseCode"]) == ("Success", 0)
        assert plugin["Output"] == "out\n\n----------ERROR-------\nerr\n"
        with open(os.path.join(agent_root(simulator, item["InstanceId"]), "srv/app/id.txt")) as handle:
            assert handle.read() == item["InstanceId"] + "\n"


def test_max_concurrency_and_max_errors(simulator):
    instances = launch(simulator, 6, {"Role": "batch"})
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instances, MaxConcurrency="2", MaxErrors="10",
                               Parameters={"commands": ["date +%s.%N", "sleep 0.3", "date +%s.%N"]})["Command"]
    invocations = wait(ssm, command["CommandId"], 6)
    spans = sorted((float(item["CommandPlugins"][0]["Output"].split()[0]), float(item["CommandPlugins"][0]["Output"].split()[1]))
                   for item in invocations)
    for moment in [start for start, _ in spans]:
        assert sum(1 for start, end in spans if start <= moment < end) <= 2  # never more than 2 at once

    failing = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instances, MaxConcurrency="1", MaxErrors="1",
                               Parameters={"commands": ["exit 1"]})["Command"]
    results = wait(ssm, failing["CommandId"], 6)
    statuses = sorted(item["Status"] for item in results)
    assert statuses.count("Failed") == 2          # sending stops at error MaxErrors + 1
    assert statuses.count("Cancelled") == 4
    assert {item["StatusDetails"] for item in results if item["Status"] == "Cancelled"} == {"Terminated"}
    summary = ssm.list_commands(CommandId=failing["CommandId"])["Commands"][0]
    assert (summary["Status"], summary["ErrorCount"], summary["CompletedCount"]) == ("Failed", 2, 6)


def test_output_limits_and_s3_copy(simulator):
    [instance] = launch(simulator, 1, {"Role": "chatty"})
    s3 = simulator.client("s3")
    s3.create_bucket(Bucket="command-output", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance],
                               OutputS3BucketName="command-output", OutputS3KeyPrefix="runs",
                               Parameters={"commands": ["head -c 30000 /dev/zero | tr '\\0' a",
                                                        "head -c 9000 /dev/zero | tr '\\0' b >&2"]})["Command"]
    [item] = wait(ssm, command["CommandId"], 1)
    # The agent keeps 2,500 bytes: both streams are long, so each keeps half of what the markers leave.
    assert item["CommandPlugins"][0]["Output"] == ("a" * 1215 + "\n---Output truncated---" + "\n----------ERROR-------\n"
                                                   + "b" * 1215 + "\n---Error truncated----")
    result = ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)
    assert len(result["StandardOutputContent"]) == 24000
    assert len(result["StandardErrorContent"]) == 8000
    key = f"runs/{command['CommandId']}/{instance}/awsrunShellScript/0.awsrunShellScript/stdout"
    assert len(s3.get_object(Bucket="command-output", Key=key)["Body"].read()) == 30000


def test_invocation_is_briefly_unknown_and_timeouts_are_reported(simulator):
    [instance] = launch(simulator, 1, {"Role": "slow"})
    ssm = simulator.client("ssm", max_attempts=1)
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance],
                               Parameters={"commands": ["sleep 5"], "executionTimeout": ["1"]})["Command"]
    with pytest.raises(ssm.exceptions.InvocationDoesNotExist):
        ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)
    [item] = wait(ssm, command["CommandId"], 1)
    assert (item["Status"], item["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
    assert item["CommandPlugins"][0]["ResponseCode"] == 137     # the agent's "stopped preemptively" code

    simulator.fleet("agent", "--instance", instance, "--delay", "5")
    late = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance], TimeoutSeconds=30,
                            Parameters={"commands": ["true"]})["Command"]
    [late_item] = wait(ssm, late["CommandId"], 1)
    # 30 s is the smallest delivery timeout AWS accepts: this test waits for it once.
    simulator.fleet("agent", "--instance", instance, "--delay", "40")
    [queued] = launch(simulator, 1, {"Role": "slow-queue"})
    # MaxConcurrency 1: the second waits for the first, and is never sent before TimeoutSeconds ends.
    never = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance, queued], TimeoutSeconds=30,
                             MaxConcurrency="1", Parameters={"commands": ["echo ran > /ran"]})["Command"]
    never_items = {item["InstanceId"]: item for item in wait(ssm, never["CommandId"], 2)}
    assert late_item["Status"] == "Success"
    for item in never_items.values():
        assert (item["Status"], item["StatusDetails"]) == ("TimedOut", "DeliveryTimedOut")
        assert item["CommandPlugins"][0]["ResponseCode"] == -1           # it never ran
    assert not os.path.exists(os.path.join(agent_root(simulator, queued), "ran"))
    summary = ssm.list_commands(CommandId=never["CommandId"])["Commands"][0]
    assert (summary["Status"], summary["StatusDetails"], summary["DeliveryTimedOutCount"], summary["ErrorCount"]) == \
        ("TimedOut", "DeliveryTimedOut", 2, 0)
    simulator.fleet("agent", "--instance", instance, "--delay", "0")


def test_offline_agents_stopped_instances_and_custom_documents(simulator):
    instances = launch(simulator, 2, {"Role": "mixed"})
    ssm = simulator.client("ssm")
    simulator.fleet("agent", "--instance", instances[0], "--offline")
    simulator.client("ec2").stop_instances(InstanceIds=[instances[1]])
    pings = {item["InstanceId"]: item["PingStatus"] for item in ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": instances}])["InstanceInformationList"]}
    assert pings == {instances[0]: "ConnectionLost", instances[1]: "ConnectionLost"}
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instances, MaxErrors="5",
                               Parameters={"commands": ["true"]})["Command"]
    # An offline node is Failed / Undeliverable; when every invocation is, so is the command.
    assert {(item["Status"], item["StatusDetails"]) for item in wait(ssm, command["CommandId"], 2)} == \
        {("Failed", "Undeliverable")}
    assert ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]["Status"] == "Failed"
    simulator.fleet("agent", "--instance", instances[0], "--online")

    ssm.create_document(Name="NuvolaSay", DocumentType="Command", DocumentFormat="JSON", Content=(
        '{"schemaVersion":"2.2","description":"say","parameters":{"word":{"type":"String","default":"hello"}},'
        '"mainSteps":[{"action":"aws:runShellScript","name":"say","inputs":{"runCommand":["echo {{ word }}"]}}]}'))
    said = ssm.send_command(DocumentName="NuvolaSay", InstanceIds=[instances[0]], Parameters={"word": ["bonjour"]})["Command"]
    [item] = wait(ssm, said["CommandId"], 1)
    assert item["CommandPlugins"][0]["Output"] == "bonjour\n"


def test_run_command_checks_signatures(simulator):
    with pytest.raises(Exception) as failure:
        simulator.client("ssm", secret="wrong", max_attempts=1).list_commands()
    assert failure.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_hanging_commands_time_out_or_are_cancelled(simulator):
    [instance] = launch(simulator, 1, {"Role": "hangs"})
    ssm = simulator.client("ssm")
    ssm.describe_instance_information()
    simulator.fleet("agent", "--instance", instance, "--hang")
    try:
        command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance],
                                   Parameters={"commands": ["echo quick"], "executionTimeout": ["1"]})["Command"]
        [item] = wait(ssm, command["CommandId"], 1)
        assert (item["Status"], item["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
        stuck = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance],
                                 Parameters={"commands": ["echo quick"]})["Command"]
        time.sleep(0.8)
        ssm.cancel_command(CommandId=stuck["CommandId"])
        [cancelled] = wait(ssm, stuck["CommandId"], 1)
        assert cancelled["Status"] == "Cancelled"
    finally:
        simulator.fleet("agent", "--instance", instance, "--no-hang")


def test_instance_refresh_keeps_min_healthy_in_service(simulator):
    import base64
    ec2, scaling = simulator.client("ec2"), simulator.client("autoscaling")
    template = ec2.create_launch_template(LaunchTemplateName="refresh", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "UserData": base64.b64encode(b"echo v1 > release").decode()})["LaunchTemplate"]["LaunchTemplateId"]
    scaling.create_auto_scaling_group(AutoScalingGroupName="refresh", MinSize=4, MaxSize=8, DesiredCapacity=4,
                                      LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
                                      AvailabilityZones=["eu-west-3a", "eu-west-3b"])
    original = {item["InstanceId"] for item in scaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=["refresh"])["AutoScalingGroups"][0]["Instances"]}
    ec2.create_launch_template_version(LaunchTemplateId=template, LaunchTemplateData={
        "ImageId": "ami-12c6146b", "UserData": base64.b64encode(b"sleep 0.3; echo v2 > release").decode()})
    refresh = scaling.start_instance_refresh(AutoScalingGroupName="refresh", Preferences={"MinHealthyPercentage": 50},
                                             DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": template, "Version": "2"}})
    lowest, status = 4, None
    for _ in range(300):
        group = scaling.describe_auto_scaling_groups(AutoScalingGroupNames=["refresh"])["AutoScalingGroups"][0]
        lowest = min(lowest, sum(1 for item in group["Instances"] if item["LifecycleState"] == "InService"))
        status = scaling.describe_instance_refreshes(AutoScalingGroupName="refresh",
                                                     InstanceRefreshIds=[refresh["InstanceRefreshId"]])["InstanceRefreshes"][0]
        if status["Status"] not in ("Pending", "InProgress"):
            break
        time.sleep(0.05)
    assert status["Status"] == "Successful"
    assert lowest >= 2                                  # 50 % of 4 stayed in service throughout
    final = scaling.describe_auto_scaling_groups(AutoScalingGroupNames=["refresh"])["AutoScalingGroups"][0]["Instances"]
    assert len(final) == 4 and not ({item["InstanceId"] for item in final} & original)
    for item in final:
        with open(os.path.join(agent_root(simulator, item["InstanceId"]), "release")) as handle:
            assert handle.read() == "v2\n"


def test_instances_the_group_launches_run_their_user_data(simulator):
    import base64
    ec2, scaling = simulator.client("ec2"), simulator.client("autoscaling")
    template = ec2.create_launch_template(LaunchTemplateName="boots", LaunchTemplateData={
        "ImageId": "ami-12c6146b",
        "UserData": base64.b64encode(b"mkdir -p srv && echo installed $FLEET_INSTANCE_ID > srv/boot").decode()})
    scaling.create_auto_scaling_group(AutoScalingGroupName="boots", MinSize=1, MaxSize=4, DesiredCapacity=1,
                                      LaunchTemplate={"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"],
                                                      "Version": "1"}, AvailabilityZones=["eu-west-3a"])
    scaling.set_desired_capacity(AutoScalingGroupName="boots", DesiredCapacity=3)   # a scale-out
    members = [item["InstanceId"] for item in scaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=["boots"])["AutoScalingGroups"][0]["Instances"]]
    assert len(members) == 3
    simulator.client("ssm").describe_instance_information()                         # agents register
    deadline = time.time() + 15
    for instance in members:
        path = os.path.join(agent_root(simulator, instance), "srv", "boot")
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.1)
        with open(path) as handle:
            assert handle.read() == f"installed {instance}\n"
