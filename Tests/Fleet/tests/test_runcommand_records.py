"""What adminctl's fleet commands need from the simulator beyond Run Command itself: tag targets
combined as AWS combines them, the simulator's own record of when each invocation ran, a count
of the API calls it answered, corrupted transfers, and an instance's own /usr/local."""
import hashlib
import json
import os
import subprocess
import time
import urllib.request

from test_runcommand import agent_root, launch, wait


def control(simulator, route, method="GET"):
    request = urllib.request.Request(f"{simulator.endpoint}/_fleet/{route}", method=method)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def test_several_tag_targets_select_instances_carrying_all_of_them(simulator):
    both = launch(simulator, 2, {"Role": "records-devbox", "Owner": "ana"})
    launch(simulator, 1, {"Role": "records-devbox", "Owner": "bob"})
    launch(simulator, 1, {"Role": "records-app", "Owner": "ana"})
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", Parameters={"commands": ["true"]},
                               Targets=[{"Key": "tag:Role", "Values": ["records-devbox"]},
                                        {"Key": "tag:Owner", "Values": ["ana", "carla"]}])["Command"]
    assert command["TargetCount"] == 2
    assert {item["InstanceId"] for item in wait(ssm, command["CommandId"], 2)} == set(both)


def test_the_record_of_start_times_shows_max_concurrency_kept(simulator):
    instances = launch(simulator, 5, {"Role": "records-concurrency"})
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instances, MaxConcurrency="2",
                               Parameters={"commands": ["sleep 0.3"]})["Command"]
    wait(ssm, command["CommandId"], 5)
    record = control(simulator, f"commands/{command['CommandId']}")[0]
    assert record["MaxConcurrency"] == 2 and len(record["Invocations"]) == 5
    spans = [(item["Started"], item["Finished"]) for item in record["Invocations"]]
    assert all(start and end and end >= start + 0.3 for start, end in spans)
    for moment, _ in spans:
        assert sum(1 for start, end in spans if start <= moment < end) <= 2
    assert any(sum(1 for start, end in spans if start <= moment < end) == 2 for moment, _ in spans)
    assert control(simulator, "commands")[0]["CommandId"] == command["CommandId"]   # newest first


def test_calls_are_counted_per_operation_and_reset(simulator):
    control(simulator, "calls", method="DELETE")
    ssm = simulator.client("ssm")
    ssm.describe_instance_information()
    ssm.describe_instance_information()
    simulator.client("ec2").describe_instances()
    counted = control(simulator, "calls")
    assert counted["calls"]["ssm.DescribeInstanceInformation"] == 2
    assert counted["calls"]["ec2.DescribeInstances"] == 1
    assert counted["total"] == 3           # the control API itself is not counted
    assert control(simulator, "calls", method="DELETE") == {"cleared": True}
    assert control(simulator, "calls")["total"] == 0


def test_a_corrupt_fault_changes_one_byte_of_a_presigned_download(simulator):
    s3 = simulator.client("s3")
    s3.create_bucket(Bucket="records-corrupt", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    data = os.urandom(4096)
    s3.put_object(Bucket="records-corrupt", Key="blob", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "records-corrupt", "Key": "blob"})
    simulator.fleet("inject", "--kind", "corrupt", "--service", "s3", "--operation", "GetObject", "--count", "1")
    with urllib.request.urlopen(url) as response:
        first = response.read()
    with urllib.request.urlopen(url) as response:
        second = response.read()
    assert len(first) == len(data) and first != data
    assert sum(1 for a, b in zip(first, data) if a != b) == 1
    assert hashlib.sha256(second).digest() == hashlib.sha256(data).digest()


def test_usr_local_is_each_instances_own_and_on_path(simulator):
    first, second = launch(simulator, 2, {"Role": "records-local"})
    tool = os.path.join(agent_root(simulator, first), "usr", "local", "bin", "stand-in")
    os.makedirs(os.path.dirname(tool), exist_ok=True)
    with open(tool, "w") as handle:
        handle.write("#!/bin/sh\necho stand-in on $(hostname)\n")
    os.chmod(tool, 0o755)
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[first, second],
                               Parameters={"commands": ["stand-in || echo missing", "touch /usr/local/written"]})["Command"]
    outputs = {item["InstanceId"]: (item["Status"], item["CommandPlugins"][0]["Output"])
               for item in wait(ssm, command["CommandId"], 2)}
    assert outputs[first][0] == "Success" and outputs[first][1].startswith("stand-in on ip-")
    assert outputs[second][1].startswith("missing")
    assert os.path.exists(os.path.join(agent_root(simulator, second), "usr", "local", "written"))
    assert not os.path.exists("/usr/local/written")
    assert subprocess.run(["test", "-e", "/usr/local/bin/stand-in"]).returncode != 0


def test_fast_resource_tags_answers_what_moto_answered():
    """moto_adapter.fast_resource_tags reads a resource's own tags: the list moto's scan gave."""
    import boto3
    from moto import mock_aws
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.core import TaggedEC2Resource
    from simulator import moto_adapter
    scanned = TaggedEC2Resource.get_tags
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-3")
        ec2.run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3, TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "devbox"}, {"Key": "Owner", "Value": "ana"}]}])
        backend = ec2_backends[moto_adapter.ACCOUNT_ID]["eu-west-3"]
        instances = list(backend.all_instances())
        ec2.create_tags(Resources=[instances[0].id], Tags=[{"Key": "Env", "Value": "dev"}])
        expected = [scanned(instance) for instance in instances]
        try:
            moto_adapter.fast_resource_tags()
            assert [instance.get_tags() for instance in instances] == expected
            assert {tag["key"] for tag in instances[0].get_tags()} == {"Role", "Owner", "Env"}
        finally:
            TaggedEC2Resource.get_tags = scanned


def test_an_instance_terminated_mid_run_ends_its_command_and_times_out_with_no_result(simulator):
    """Its processes end with the machine; the agent that would report is gone, so the invocation
    stays InProgress until its execution timeout, then TimedOut / ExecutionTimedOut with no exit
    code (-1) and no output, as AWS keeps it (see runcommand.RunCommand.lose)."""
    kept, doomed = launch(simulator, 2, {"Role": "records-terminated"})
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[kept, doomed],
                               Parameters={"commands": ["echo started; touch /began; sleep 4; echo done; touch /ended"],
                                           "executionTimeout": ["6"]})["Command"]
    began = os.path.join(agent_root(simulator, doomed), "began")
    for _ in range(100):
        if os.path.exists(began):
            break
        time.sleep(0.05)
    assert os.path.exists(began)
    simulator.client("ec2").terminate_instances(InstanceIds=[doomed])
    time.sleep(1.5)
    by_id = {item["InstanceId"]: item for item in
             ssm.list_command_invocations(CommandId=command["CommandId"], Details=True)["CommandInvocations"]}
    assert by_id[doomed]["Status"] == "InProgress"
    [record] = control(simulator, f"commands/{command['CommandId']}")
    assert {item["InstanceId"]: item["Status"] for item in record["Invocations"]}[doomed] == "InProgress"
    invocations = wait(ssm, command["CommandId"], 2, timeout=30)
    by_id = {item["InstanceId"]: item for item in invocations}
    assert (by_id[kept]["Status"], by_id[kept]["CommandPlugins"][0]["Output"]) == ("Success", "started\ndone\n")
    lost = by_id[doomed]
    assert (lost["Status"], lost["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
    assert (lost["CommandPlugins"][0]["ResponseCode"], lost["CommandPlugins"][0]["Output"]) == (-1, "")
    assert not os.path.exists(os.path.join(agent_root(simulator, doomed), "ended"))   # the sleep was killed with it
